"""clientcheck: checks a workstation's OS, browsers and PDF viewers against a published minimum-version
rule file, and says which updates are owed and how to make them."""

import os

__version__ = "0.1.0"

# Everything the package reads at run time or publishes for other tools (the bundled rules, the product
# catalog, the compiled translations, the autostart templates, the JSON Schemas) lives in the package, in
# data/: an installed wheel, an editable install and a PyInstaller bundle find it the same way.
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
