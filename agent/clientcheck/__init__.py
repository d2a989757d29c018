"""clientcheck: checks a workstation's OS, browsers and PDF viewers against a published minimum-version
rule file, and says which updates are owed and how to make them."""

__version__ = "0.1.0"
