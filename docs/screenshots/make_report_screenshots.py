"""Regenerates the screenshots of the agent's HTML report that docs/person-at-the-desk.md shows: the Debian
fixture machine judged by the example stepped rules four days before a deadline, in English and German, on
a 390 px phone and on a 1280 px desktop, in Debian's headless Chromium (the driver the layout tests use,
tests/browser.py), saved as PNGs beside this script.

    .venv/bin/python docs/screenshots/make_report_screenshots.py        # from the repository's root

It needs chromium; Pillow, when installed, makes the PNGs smaller (256 colours). Nothing outside a
temporary folder and this one is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser import Chromium  # noqa: E402 - found through the line above
from clientcheck.cli import main as clientcheck  # noqa: E402

# Relative to the repository's root (the page names its rule file as given), as a reader's checkout has them.
MACHINE = ["--root", "tests/fixtures/linux/debian-12-desktop/root", "--platform", "linux"]
RULES = ["--rules", "rules/examples/stepped-warnings.json", "--as-of", "2026-12-04"]
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone.utc)
SHOTS = [("en", 390, 844, True), ("de", 390, 844, True), ("de", 1280, 900, False)]


def _small(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> int:
    program = shutil.which("chromium")
    if program is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    os.chdir(REPO)
    work = Path(tempfile.mkdtemp(prefix="clientcheck-report-screenshots-"))
    browser = Chromium(program, work / "profile")
    try:
        for language, width, height, mobile in SHOTS:
            page_path = work / f"report-{language}.html"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                arguments = ["check", *MACHINE, *RULES, "--lang", language, "--format", "html", "-o", str(page_path)]
                status = clientcheck(arguments, env={}, now=NOW)
            if status not in (0, 1):
                print(f"clientcheck check exited {status} for {language}", file=sys.stderr)
                return 1
            page = browser.open(page_path.as_uri(), width, height, mobile=mobile)
            target = HERE / f"report-{language}-{width}.png"
            page.screenshot(target)
            _small(target)
            print(f"{target.relative_to(REPO)}: {target.stat().st_size // 1024} KB")
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
