"""The documentation: the mkdocs site builds with --strict (a page left out of the nav, a link to a missing
page or anchor, an absolute link: each is an error), without the network, and loads nothing from outside
the site; every link of the README leads somewhere that exists; the README's test command is the one CI
runs.

The site is built in a network namespace of its own where the tests run as root (CI), so a theme or plugin
that reached for the internet at build time would fail here. README links are checked without the
network: https links for their form only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import missing

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
DATA = REPO / "agent" / "clientcheck" / "data"


# --- the site ------------------------------------------------------------------------------------------------


def _can_unshare_the_network() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def _build(config: Path, site: Path, *, offline: bool) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(config),
        "--site-dir",
        str(site),
    ]
    if offline:
        command = ["unshare", "--net", *command]  # no interface but a loopback that is down
    # Material prints a notice about its successor on every build unless told not to; it is no warning of ours.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], bool]:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        missing("mkdocs and mkdocs-material are not installed (pip install '.[test]')")
    folder = tmp_path_factory.mktemp("site")
    offline = _can_unshare_the_network()
    return folder, _build(REPO / "mkdocs.yml", folder, offline=offline), offline


def test_the_site_builds_strictly_without_a_warning(site):
    folder, build, _offline = site
    assert build.returncode == 0, build.stdout + build.stderr
    warnings = [line for line in (build.stdout + build.stderr).splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == []
    assert (folder / "index.html").is_file()


def test_the_site_builds_without_the_network(site):
    _folder, build, offline = site
    if not offline:
        missing("building in a network namespace of its own needs root and unshare (util-linux)")
    assert build.returncode == 0, build.stdout + build.stderr


def test_every_page_loads_only_what_the_site_holds(site):
    # Material's web fonts would come from Google Fonts, in every reader's browser: theme.font is false.
    folder, build, _offline = site
    assert build.returncode == 0, build.stdout + build.stderr
    pages = sorted(folder.rglob("*.html"))
    assert len(pages) > len(list(DOCS.rglob("*.md")))  # every page, and the 404 page
    outside = re.compile(r"<(?:link|script|img)\b[^>]*?\b(?:href|src)=\"(?:https?:)?//", re.IGNORECASE)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not outside.search(text), f"{page.relative_to(folder)} loads {outside.search(text).group(0)}"
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text


def test_the_published_schemas_and_examples_are_the_repositorys_own_files(site):
    folder, build, _offline = site
    assert build.returncode == 0, build.stdout + build.stderr
    for name in ("report.schema.json", "inventory.schema.json", "rules.schema.json"):
        assert (folder / "schemas" / name).read_bytes() == (DATA / name).read_bytes()
    assert (folder / "examples" / "default-rules.json").read_bytes() == (DATA / "default-rules.json").read_bytes()
    example = REPO / "rules" / "examples" / "design-example.json"
    assert (folder / "examples" / "design-example.json").read_bytes() == example.read_bytes()


def test_strict_validation_refuses_an_orphan_page_a_broken_link_and_an_absolute_link(tmp_path: Path):
    """The validation settings of mkdocs.yml, shown to catch what they are there for, on a copy of the docs."""
    import yaml

    try:
        import material  # noqa: F401
    except ImportError:
        missing("mkdocs and mkdocs-material are not installed (pip install '.[test]')")
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "left-out.md").write_text("# Not in the nav\n", encoding="utf-8")
    index = docs / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + "\n[gone](no-such-page.md) [nowhere](server.md#no-such-heading) [rooted](/server.md)\n",
        encoding="utf-8",
    )
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(docs)
    config["hooks"] = [str(REPO / hook) for hook in config["hooks"]]
    copy = tmp_path / "mkdocs.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")

    build = _build(copy, tmp_path / "site", offline=False)
    output = build.stdout + build.stderr
    assert build.returncode != 0
    assert "left-out.md" in output  # not in the nav
    assert "'no-such-page.md'" in output
    assert "'#no-such-heading'" in output
    assert "absolute link '/server.md'" in output


# --- the README's links ----------------------------------------------------------------------------------------


def github_slug(heading: str) -> str:
    """The anchor GitHub (and most forges) give a heading: lower case, punctuation dropped, spaces as
    hyphens (each one: "a - b" is "a---b")."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def mkdocs_slug(heading: str) -> str:
    """The anchor the site gives a heading (Python-Markdown's toc extension, as mkdocs.yml configures it)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def _visible(markdown: str) -> str:
    """A heading's text as it is shown: code spans, links and emphasis reduced to their text."""
    text = re.sub(r"`([^`]*)`", r"\1", markdown)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(\*\*|\*|__)", "", text)


def _outside_code(text: str) -> list[str]:
    """The lines of ``text`` that are not in fenced code blocks, with code spans blanked out."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "``", line))
    return lines


def headings(text: str, slug) -> set[str]:
    found: dict[str, int] = {}
    anchors = set()
    for line in _outside_code(text):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(_visible(match.group(1)))
            count = found.get(base, 0)
            found[base] = count + 1
            anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")


def links(text: str) -> list[str]:
    """Every link target of ``text`` (inline, reference definitions, autolinks), outside code."""
    found = []
    for line in _outside_code(text):
        found += LINK.findall(line) + AUTOLINK.findall(line)
        match = REFERENCE.match(line)
        if match:
            found.append(match.group(1))
    return found


def link_problems(document: Path, repository: Path = REPO) -> list[str]:
    """What is wrong with each link of the Markdown file ``document``: a file or anchor that is not there, a
    path out of the repository, a web link that is not a well-formed https address."""
    text = document.read_text(encoding="utf-8")
    problems = []
    for target in links(text):
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            parts = urlsplit(target)
            if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname or " " in target:
                problems.append(f"{target}: links outside the repository must be well-formed https addresses")
            continue
        path, _, anchor = target.partition("#")
        destination = (document.parent / unquote(path)).resolve() if path else document
        if path.startswith("/"):
            problems.append(f"{target}: an absolute path; links are relative to the file")
            continue
        if not destination.is_relative_to(repository.resolve()):
            problems.append(f"{target}: leads out of the repository")
            continue
        if not destination.exists():
            problems.append(f"{target}: no such file or folder")
            continue
        if anchor:
            if destination.suffix != ".md" or not destination.is_file():
                problems.append(f"{target}: an anchor into something that is not a Markdown file")
                continue
            content = destination.read_text(encoding="utf-8")
            if anchor not in headings(content, github_slug):
                problems.append(f"{target}: no heading with the anchor #{anchor} in {destination.name}")
            elif destination.is_relative_to(DOCS.resolve()) and anchor not in headings(content, mkdocs_slug):
                problems.append(f"{target}: #{anchor} is GitHub's anchor but not the site's; reword the heading")
    return problems


def test_every_link_of_the_readme_leads_somewhere():
    assert links(README.read_text(encoding="utf-8")), "the README links into docs/"
    assert link_problems(README) == []


def test_the_readme_links_into_the_documentation_site():
    targets = {target.partition("#")[0] for target in links(README.read_text(encoding="utf-8"))}
    assert {"docs/install.md", "docs/verification.md", "docs/architecture.md"} <= targets


def test_the_link_check_finds_what_is_wrong(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Two words\n\n```\n## Not a heading\n```\n")
    document = tmp_path / "README.md"
    document.write_text(
        "# Title\n\n## A section\n\n"
        "[ok](docs/page.md) [ok](docs/page.md#two-words) [ok](#a-section) [ok](https://example.org/x)\n"
        "[missing](docs/nope.md) [anchor](docs/page.md#not-a-heading) [self](#nowhere)\n"
        "[plain](http://example.org/) [out](../elsewhere.md) [bad](https://localhost)\n"
        "`[in code](nope.md)`\n\n"
        "```\n[in a block](nope.md)\n```\n"
    )
    problems = link_problems(document, tmp_path)
    assert [problem.split(":")[0] for problem in problems] == [
        "docs/nope.md",
        "docs/page.md#not-a-heading",
        "#nowhere",
        "http",
        "../elsewhere.md",
        "https",
    ]


def test_slugs_agree_with_the_forges_and_the_sites():
    assert github_slug("What was verified, and where") == "what-was-verified-and-where"
    assert mkdocs_slug("What was verified, and where") == "what-was-verified-and-where"
    assert github_slug(_visible("The `login` run")) == "the-login-run"
    assert github_slug("Nagios / Icinga") == "nagios--icinga"  # differs from the site's: such links are refused
    assert mkdocs_slug("Nagios / Icinga") == "nagios-icinga"


# --- the README's commands -------------------------------------------------------------------------------------


def _first_code_block(text: str) -> tuple[int, list[str]]:
    lines = text.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("```"))
    end = next(number for number in range(start + 1, len(lines)) if lines[number].startswith("```"))
    return start, [line.split("  #")[0].strip() for line in lines[start + 1 : end]]


def test_the_set_up_commands_are_on_the_readmes_first_screen():
    start, commands = _first_code_block(README.read_text(encoding="utf-8"))
    assert start < 15
    assert commands == [
        "python3 -m venv --upgrade-deps .venv && .venv/bin/pip install . && .venv/bin/clientcheck",
        "python3 -m venv --upgrade-deps .venv && .venv/bin/pip install '.[test]' './server[test]' && .venv/bin/pytest",
    ]


def test_ci_runs_the_readmes_test_command():
    _start, commands = _first_code_block(README.read_text(encoding="utf-8"))
    install, _, test = commands[1].rpartition(" && ")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install in [line.strip() for line in ci]
    assert any(line.strip().startswith(f"{test} ") or line.strip() == test for line in ci)
