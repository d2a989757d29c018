"""How inspection is laid out: one module or package per OS, each importable on every OS (winreg and psutil
are imported only where used, so the Windows and macOS logic runs here through its seams), and no module
over about 500 lines."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import clientcheck.inspect

PACKAGE = Path(clientcheck.inspect.__file__).parent
MODULES = sorted(
    info.name for info in pkgutil.walk_packages(clientcheck.inspect.__path__, prefix="clientcheck.inspect.")
)
MAX_LINES = 500


def _imported(code: str) -> list[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(proc.stdout)


def test_every_inspection_module_imports_here_without_winreg_or_psutil():
    assert "clientcheck.inspect.windows.restarts" in MODULES and "clientcheck.inspect.macos" in MODULES
    loaded = _imported("\n".join(f"import {name}" for name in MODULES))
    assert {"winreg", "psutil", "_winreg"} & set(loaded) == set()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a check of this Linux machine")
def test_a_linux_check_loads_no_other_operating_systems_code():
    loaded = _imported(
        "import io, sys\nfrom clientcheck.cli import main\n"
        "sys.stdout = io.StringIO(); main(['check', '--format', 'json']); sys.stdout = sys.__stdout__"
    )
    inspection = [name for name in loaded if name.startswith("clientcheck.inspect")]
    assert "clientcheck.inspect.linux.restarts" in inspection
    others = ("clientcheck.inspect.windows", "clientcheck.inspect.macos", "clientcheck.inspect.processes_")
    assert [name for name in inspection if name.startswith(others)] == []
    assert {"psutil", "winreg", "plistlib"} & set(loaded) == set()


def test_no_inspection_module_is_over_about_500_lines():
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert sizes
    assert {path: lines for path, lines in sizes.items() if lines > MAX_LINES} == {}
