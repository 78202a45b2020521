"""The explain derivations of each layer family; importing this package registers them all."""

from specc.ops.parts import import_all

import_all(__name__, __path__)
