"""The frozen executables' entry point: what the ``clientcheck`` console script runs."""

from clientcheck.cli import entry

entry()
