"""`python -m specc` runs the command line."""

from specc.cli import main

main()
