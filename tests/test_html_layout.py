"""The page the notice opens reads well from a 320 px phone to a desktop, in every language: asserted in
headless Chromium (tests/browser.py) at 320, 390 and 1280 px. Nothing scrolls sideways (the document is no
wider than the viewport), no element runs past the box it is in or past the screen (the long support links,
the commands, the table of everything found), and the table becomes one block per row on a phone, each
value under its column's name. Screenshots for people go to tests/output/ (report-<language>-<width>.png).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from browser import Chromium
from clientcheck.cli import main
from conftest import FIXTURES, NOW, REPO, missing

OUTPUT = Path(__file__).resolve().parent / "output"
STEPPED = REPO / "rules" / "examples" / "stepped-warnings.json"
MACHINES = {
    # The Debian desktop: Chrome's help link, commands, a deadline card and a stepped warning.
    "debian": ["--root", str(FIXTURES / "linux" / "debian-12-desktop" / "root"), "--platform", "linux"],
    # Windows 10: Microsoft's long support links, the Windows Update button, out-of-support cards.
    "windows": [
        "--root",
        str(FIXTURES / "windows" / "windows-10-22h2" / "root"),
        "--registry",
        str(FIXTURES / "windows" / "windows-10-22h2" / "registry.reg"),
    ],
}
LANGUAGES = ["en", *sorted(path.stem for path in (REPO / "agent" / "locale").glob("*.po"))]

# What overflows, as a list of "element: why" (empty when nothing does). An element inside a box that clips
# on purpose (the table's column names, hidden on a phone but read out by screen readers) is not shown.
OVERFLOW = """(() => {
  const viewport = document.documentElement.clientWidth;
  const found = [];
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className.split(' ').join('.') : '')
    + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const clipped = (el) => {
    for (let up = el; up; up = up.parentElement) {
      if (getComputedStyle(up).clip !== 'auto') return true;
    }
    return false;
  };
  if (document.documentElement.scrollWidth > viewport) {
    found.push('the page: ' + document.documentElement.scrollWidth + ' px wide in a ' + viewport + ' px viewport');
  }
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || clipped(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > viewport + 0.5 || box.left < -0.5) {
      found.push(name(el) + ': past the screen (' + Math.round(box.left) + '..' + Math.round(box.right) + ')');
    }
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(name(el) + ': its content is ' + el.scrollWidth + ' px wide in ' + el.clientWidth + ' px');
    }
    const parent = el.parentElement;
    if (parent && parent !== document.body && style.position !== 'absolute') {
      const outer = parent.getBoundingClientRect();
      if (box.right > outer.right + 0.5 || box.left < outer.left - 0.5) {
        found.push(name(el) + ': outside its ' + parent.tagName.toLowerCase());
      }
    }
  }
  return found;
})()"""
TABLE = """(() => {
  const cell = document.querySelector('tbody td');
  return {display: getComputedStyle(cell).display, label: getComputedStyle(cell, '::before').content,
          head: getComputedStyle(document.querySelector('thead')).clip};
})()"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    program = shutil.which("chromium")
    if program is None:
        missing("chromium is not installed (apt-get install chromium)")
    browser = Chromium(program, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each machine's page in each language, judged by stepped rules four days before a deadline."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("pages")
    made = {}
    for machine, arguments in MACHINES.items():
        for language in LANGUAGES:
            path = folder / f"{machine}-{language}.html"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                rules = ["--rules", str(STEPPED), "--as-of", "2026-12-04"] if machine == "debian" else []
                status = main(
                    ["check", *arguments, *rules, "--lang", language, "--format", "html", "-o", str(path)],
                    env={},
                    now=NOW,
                )
            assert status in (0, 1)
            made[(machine, language)] = path
    return made


@pytest.mark.parametrize("width", [320, 390])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_on_a_phone_nothing_runs_off_the_screen(chromium: Chromium, pages, machine: str, language: str, width: int):
    page = chromium.open(pages[(machine, language)].as_uri(), width, 800, mobile=True)
    assert page.evaluate(OVERFLOW) == []
    table = page.evaluate(TABLE)
    assert table["display"] == "block"  # one block per row, not a table cut at the edge
    assert table["label"].startswith('"')  # each value under its column's name
    if machine == "debian" and language in ("en", "de"):
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(OUTPUT / f"report-{language}-{width}.png")


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_on_a_desktop_the_table_is_a_table(chromium: Chromium, pages, machine: str, language: str):
    page = chromium.open(pages[(machine, language)].as_uri(), 1280, 900, mobile=False)
    assert page.evaluate(OVERFLOW) == []
    table = page.evaluate(TABLE)
    assert table["display"] == "table-cell"
    assert table["head"] == "auto"  # the column names shown above the table
    if machine == "debian" and language in ("en", "de"):
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(OUTPUT / f"report-{language}-1280.png")


def test_the_checks_see_what_they_should(chromium: Chromium, tmp_path: Path):
    # A page the old way (a table that only scrolls, a link that cannot wrap): the checks find both.
    page_file = tmp_path / "old.html"
    page_file.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        "<body><section><p>More: <a href='#'>https://support.microsoft.com/microsoft-edge/microsoft-edge-update"
        "-settings-af8aaca2-1b69-4870-94fe-18822dbb7ef1</a></p></section>"
        '<div style="overflow-x:auto"><table><tr><td>Product</td><td>Version</td><td>Track</td><td>Scope</td>'
        "<td>Source</td><td>A long column of its own</td></tr></table></div></body></html>"
    )
    found = chromium.open(page_file.as_uri(), 320, 800, mobile=True).evaluate(OVERFLOW)
    assert any(line.startswith("a ") for line in found), found
    assert any(line.startswith("div ") and "content is" in line for line in found), found
