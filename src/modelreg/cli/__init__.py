"""The ``modelreg`` command line: parse, make one library call, render."""
