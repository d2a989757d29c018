"""What clientcheck.spec puts in the one-folder bundle, worked out from the installed package itself.

PyInstaller follows ``import`` statements, including those inside functions, but not names built at run
time: the renderers are loaded by ``__import__(f"clientcheck.render.{name}")`` so that a run loads only the
one it needs. Rather than list such modules by hand (and forget the next one), every module of the package is
named a hidden import; the package is small, so this costs little. The data files are every non-Python file
the package carries (everything in ``data/``: the bundled rules, the catalog, the templates, the schemas),
as the wheel has them, the compiled translations (data/locale/*.mo) included; installed or editable, the
package holds them all.
"""

from __future__ import annotations

import importlib.util
import os
import sys

PACKAGE = "clientcheck"
# Without these the bundle is broken: a first run judges by the bundled rules, and inspection needs the catalog;
# without the compiled translations (build products: pip install . compiles them) it would speak English only.
REQUIRED_DATA = (
    "clientcheck/data/default-rules.json",
    "clientcheck/data/catalog.json",
    "clientcheck/data/locale/en.mo",
)


def package_dir() -> str:
    """The folder of the clientcheck package the building interpreter would import (installed or editable)."""
    spec = importlib.util.find_spec(PACKAGE)  # finds it without running it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PACKAGE} is not installed for {sys.executable}: pip install . first")
    return str(next(iter(spec.submodule_search_locations)))


def _walk(top: str) -> list[tuple[str, list[str], list[str]]]:
    found = []
    for folder, directories, files in os.walk(top):
        directories[:] = sorted(name for name in directories if name != "__pycache__" and not name.startswith("."))
        found.append((folder, directories, sorted(files)))
    return found


def submodules(top: str, package: str = PACKAGE) -> list[str]:
    """Every module and subpackage under the package folder ``top``, by dotted name, found by walking its files
    (nothing is imported: Windows and macOS modules are listed on every OS alike)."""
    names = []
    for folder, _directories, files in _walk(top):
        relative = os.path.relpath(folder, top)
        prefix = package if relative == "." else f"{package}.{relative.replace(os.sep, '.')}"
        if "__init__.py" not in files:
            continue  # not a package: a data folder
        names.append(prefix)
        names += [f"{prefix}.{name[:-3]}" for name in files if name.endswith(".py") and name != "__init__.py"]
    return names


def data_files(top: str) -> list[tuple[str, str, str]]:
    """PyInstaller TOC entries ``(path in the bundle, source file, "DATA")`` for every file of the package that
    is not one of its modules (in a data folder, even a ``.py`` file is data). TOC entries rather than
    ``datas`` pairs, as PyInstaller keeps them. SystemExit when a file the bundle cannot work without is
    missing (a damaged installation)."""
    package = os.path.basename(os.path.normpath(top))
    found = []
    for folder, _directories, files in _walk(top):
        relative = os.path.relpath(folder, top)
        destination = package if relative == "." else f"{package}/{relative.replace(os.sep, '/')}"
        modules = "__init__.py" in files
        found += [
            (f"{destination}/{name}", os.path.join(folder, name), "DATA")
            for name in files
            if not name.endswith((".pyc", ".pyo"))
            and not name.startswith(".")
            and not (modules and name.endswith(".py"))
        ]
    if package == PACKAGE:
        paths = {path for path, _source, _kind in found}
        for required in REQUIRED_DATA:
            if required not in paths:
                raise SystemExit(f"{required} is missing from the package at {top}: reinstall clientcheck")
    return found


# Runtime hooks PyInstaller adds because the standard library and psutil pull inspect, pkgutil and
# multiprocessing into the bundle. Each runs at every start and imports its module: together they doubled a
# frozen run (133 ms against 68 ms without them, on Linux). clientcheck reads no source code (what the
# inspect hook fixes), lists no modules through pkgutil, and starts no worker processes (multiprocessing).
UNNEEDED_RUNTIME_HOOKS = frozenset(("pyi_rth_inspect", "pyi_rth_pkgutil", "pyi_rth_multiprocessing"))


def without_unneeded_runtime_hooks(scripts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``Analysis.scripts`` (the entry script and the runtime hooks, a TOC) less the hooks above."""
    return [entry for entry in scripts if entry[0] not in UNNEEDED_RUNTIME_HOOKS]


def windowless_wanted(platform: str = sys.platform, env: dict[str, str] | None = None) -> bool:
    """Whether to build the windowless executable too: on Windows (a logon task must not flash a console
    window) and macOS; elsewhere PyInstaller ignores ``console=False``, and CLIENTCHECK_BUILD_WINDOWLESS=1 builds it
    anyway so the two-executable layout is tested on Linux."""
    environment = os.environ if env is None else env
    return platform in ("win32", "darwin") or environment.get("CLIENTCHECK_BUILD_WINDOWLESS") == "1"
