"""The output formats, by the name ``--format`` and ``report.format`` take.

Low in the package on purpose: the settings check a configured format against this list without importing
the renderers, and ``render`` loads the module of the one asked for by the same name (one module per
format in ``render/``).
"""

from __future__ import annotations

FORMATS = ("text", "json", "html", "nagios", "prometheus", "jamf", "intune", "csv", "ansible")
