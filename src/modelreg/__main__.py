"""``python -m modelreg``."""

from modelreg.cli.app import main

main()
