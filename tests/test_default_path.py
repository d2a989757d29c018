"""What a plain check costs, in modules and files: the default path (``clientcheck check``, offline, with the
bundled rules) imports none of the modules that cost start-up time or belong to other paths, whether the
person reads English or another language, and through the installed console script too; an English check
reads no translation at all, another language only its own catalog, once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, missing

# Never on the default path: the network and signature stack, process inspection, the session bus, the
# standard library's gettext (and the locale module it reads), and regular expressions (with enum and
# functools, which re drags in: about 5 ms a run).
FORBIDDEN = ("re", "gettext", "locale", "requests", "cryptography", "platformdirs", "psutil", "jeepney", "tomllib")
DEBIAN = str(FIXTURES / "linux" / "debian-12-desktop" / "root")


def _run(arguments: list[str], env: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(modules imported, files opened under the package's locale folder) by one in-process run of main,
    in a fresh interpreter that sees no PYTHON* variable (-I)."""
    code = (
        "import sys, io\n"
        "from clientcheck import i18n\n"
        "opened = []\n"
        "def audit(event, args):\n"
        "    if event == 'open' and isinstance(args[0], str) and args[0].startswith(i18n.LOCALE_DIR):\n"
        "        opened.append(args[0].rsplit('/', 1)[-1])\n"
        "sys.addaudithook(audit)\n"
        "from clientcheck.cli import main\n"
        "sys.stdout = io.StringIO()\n"
        f"main({arguments!r})\n"
        "sys.stdout = sys.__stdout__\n"
        "print(' '.join(sorted(sys.modules)))\n"
        "print(' '.join(opened))\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True, env=env or dict(os.environ)
    )
    modules, opened = run.stdout.splitlines()[-2:]
    return modules.split(), opened.split()


@pytest.mark.parametrize(
    "arguments",
    [["check"], ["check", "--format", "json"], ["check", "--root", DEBIAN, "--platform", "linux"]],
    ids=["text", "json", "owed"],
)
def test_an_english_check_imports_nothing_it_need_not_and_reads_no_translation(arguments: list[str]):
    modules, opened = _run(arguments)
    assert sorted(set(FORBIDDEN) & set(modules)) == []
    assert "clientcheck.mo" not in modules  # no catalog to read, no plural formula to parse
    assert opened == []


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "--lang", "de"],
        ["check", "--lang", "de", "--root", DEBIAN, "--platform", "linux"],
        ["check", "--lang", "pt-BR", "--root", DEBIAN, "--platform", "linux", "--format", "html"],
    ],
    ids=["german", "german-owed", "portuguese-html"],
)
def test_another_language_pays_only_its_catalog(arguments: list[str]):
    modules, opened = _run(arguments)
    assert sorted(set(FORBIDDEN) & set(modules)) == []
    language = arguments[arguments.index("--lang") + 1].split("-")[0]
    assert opened == [f"{language}.mo"]  # once, however many messages and formats use it


def test_a_locale_from_the_environment_costs_the_same():
    env = {**os.environ, "LANG": "fr_FR.UTF-8"}
    modules, opened = _run(["check", "--root", DEBIAN, "--platform", "linux"], env)
    assert sorted(set(FORBIDDEN) & set(modules)) == []
    assert opened == ["fr.mo"]


def _console_script() -> str:
    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable))
    if script is None:
        missing("clientcheck's console script is not installed beside this interpreter (pip install -e .)")
    return script


@pytest.mark.parametrize("language", [None, "de"], ids=["english", "german"])
def test_through_the_installed_console_script(language: str | None):
    # The script pip wrote, run as its shebang runs it, with -X importtime listing every module imported, in
    # order: the launcher's own imports count too. pip 25 and later (and pipx, uv) write a launcher without
    # re; pip 24 and older import re in it, about as much as the whole of clientcheck's own imports: the
    # README's venv --upgrade-deps brings a pip that does not.
    arguments = ["check", "--format", "json", *(["--lang", language] if language else [])]
    script = _console_script()
    with open(script, encoding="utf-8") as launcher:
        assert "import re\n" not in launcher.read(), f"{script} was written by a pip older than 25: it imports re"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", script, *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")]
    assert "clientcheck" in imported
    assert sorted(set(FORBIDDEN) & set(imported)) == []
    assert ("clientcheck.mo" in imported) == (language is not None)
