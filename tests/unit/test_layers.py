"""The package's layers: no lower layer imports a higher one, read from the source of every module (imports
inside functions and under TYPE_CHECKING count too: a lazy or type-only import is still a dependency).

From the bottom: the foundation every part may use (errors, records, dates, reading files, the OS identity,
folders, the model of what flows between the stages); the settings; the stages of the pipeline (inspect,
rules, evaluate, render) and the delivery around them (privacy, login, notify, autostart, collector); the judge
pipeline; the commands; the command line. A new module gets a place here, or this test fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clientcheck

PACKAGE = Path(clientcheck.__file__).resolve().parent

# By the name under clientcheck (a subpackage counts as a whole).
LAYERS: dict[str, int] = {
    **dict.fromkeys(
        (
            "",  # the package itself: its version and DATA_DIR
            "errors",
            "record",
            "dates",
            "visible",
            "reading",
            "cjson",
            "digest",  # SHA-256 by CPython's own module
            "percent",  # file:// links without urllib.parse
            "tomlread",
            "version",
            "language",
            "i18n",  # the translations: the catalogs of the person's language
            "mo",  # the compiled catalogs read without gettext
            "platforms",
            "dirs",
            "folders",
            "deliver",
            "model",
            "catalog",
            "remedy",
            "net",
            "arguments",  # a parser that knows nothing of clientcheck's commands
        ),
        0,
    ),
    "config": 1,
    **dict.fromkeys(
        ("inspect", "rules", "evaluate", "render", "privacy", "login", "notify", "autostart", "collector"), 2
    ),
    "judge": 3,
    "commands": 4,
    **dict.fromkeys(("cli", "__main__"), 5),
}
NAMES = {0: "the foundation", 1: "the settings", 2: "a stage", 3: "the judge", 4: "a command", 5: "the command line"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The clientcheck modules ``path`` imports; ``from clientcheck import X`` is the submodule X when there is
    one, else the package itself."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "clientcheck")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "clientcheck":
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").is_file() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).is_file()
                found.add(candidate if is_module else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: a relative import; the package imports by full name")
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer():
    assert sorted({_part(module) for module in GRAPH} - set(LAYERS)) == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_higher_layer(module: str):
    own = LAYERS[_part(module)]
    higher = sorted(imported for imported in GRAPH[module] if LAYERS[_part(imported)] > own)
    assert not higher, f"{module} ({NAMES[own]}) imports {', '.join(higher)}"


@pytest.mark.parametrize("module", sorted(name for name in GRAPH if _part(name) == "config"))
def test_the_settings_import_neither_rendering_nor_the_command_line_nor_inspection(module: str):
    forbidden = ("render", "cli", "arguments", "commands", "inspect")
    assert sorted(name for name in GRAPH[module] if _part(name) in forbidden) == []


@pytest.mark.parametrize("part", ["notify", "autostart", "rules", "config", "login"])
def test_only_inspection_and_what_drives_it_import_the_inspectors(part: str):
    # The running machine's OS is clientcheck.platforms: learning it needs no inspector.
    users = sorted(
        module
        for module, imported in GRAPH.items()
        if _part(module) == part
        for name in imported
        if _part(name) == "inspect"
    )
    assert users == []


def test_the_os_identity_stands_on_the_errors_alone():
    assert GRAPH["clientcheck.platforms"] <= {"clientcheck.errors", "clientcheck.model"}  # the model: a type


def test_the_layers_are_read_from_the_source():
    # The reading itself: a known lazy import and a known type-only one are seen.
    assert "clientcheck.inspect" in GRAPH["clientcheck.commands.check"]  # inside a function
    assert "clientcheck.config" in GRAPH["clientcheck.judge"]  # under TYPE_CHECKING
    assert "clientcheck.dates" in GRAPH["clientcheck.cli"]  # from clientcheck import dates as dt
