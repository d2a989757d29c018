"""Regenerates the screenshots docs/dashboard.md shows: a throw-away clientcheck-server with a demo fleet
(real agents' requests, one host reporting like an attacker, 90 days of made-up trend), each page in
Debian's headless Chromium at laptop width (and the overview at phone width), saved as small palette PNGs
beside this script.

    .venv/bin/python docs/screenshots/make_screenshots.py        # from the repository's root

It needs what the dashboard's browser tests need (chromium, chromium-driver, the server's test extras);
Pillow, when installed, makes the PNGs smaller (256 colours). Nothing outside a temporary folder and this
one is written. It lives beside the pictures it makes, so that whoever changes a page finds it there.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "server"))

import browsertest  # noqa: E402
from servertest import Server  # noqa: E402

PAGES = [
    ("overview", "/", browsertest.LAPTOP),
    ("overview-phone", "/", (390, 844)),
    ("hosts", "/hosts?status=owed&status=due&sort=owed_since", browsertest.LAPTOP),
    ("host", "/hosts/2", browsertest.LAPTOP),
    ("rule", "/rules/chrome", browsertest.LAPTOP),
    ("rules", "/rules", browsertest.LAPTOP),
    ("secrets", "/secrets", browsertest.LAPTOP),
    ("tokens", "/tokens", browsertest.LAPTOP),
    ("users", "/users", browsertest.LAPTOP),
    ("alerts", "/alerts", browsertest.LAPTOP),
    ("settings", "/settings", browsertest.LAPTOP),
    ("audit", "/audit", browsertest.LAPTOP),
]


def _small(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="clientcheck-screenshots-"))
    server = Server(work / "data", workers=1)
    driver = None
    try:
        server.wait_ready()
        browsertest.demo_fleet(server)
        browsertest.backfill_trend(work / "data" / "clientcheck.sqlite3")
        driver = browsertest.chrome(work / "profile")
        browsertest.sign_in(driver, server.url, "admin", browsertest.ADMIN_PASSWORD)
        for name, path, (width, height) in PAGES:
            browsertest.viewport(driver, width, height)
            driver.get(server.url + path)
            full = driver.execute_script("return document.documentElement.scrollHeight")
            browsertest.viewport(driver, width, min(int(full), 2400))
            target = HERE / f"{name}.png"
            driver.save_screenshot(str(target))
            _small(target)
            print(f"{target.relative_to(HERE.parent.parent)}: {target.stat().st_size // 1024} KB")
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
