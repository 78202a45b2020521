"""What each op family needs to run on NumPy: importing this package registers every lowering."""

from specc.ops.parts import import_all

import_all(__name__, __path__)
