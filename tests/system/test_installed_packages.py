"""Against the real machine: every browser and PDF viewer that dpkg says is installed is reported by
``clientcheck inventory`` with the upstream version dpkg-query gives. ``.ci/run`` installs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CI, missing, require_tool

pytestmark = pytest.mark.system

# package -> product id, for the packages .ci/run installs from Debian's archive.
PACKAGES = {
    "firefox-esr": "firefox",
    "chromium": "chromium",
    "epiphany-browser": "epiphany",
    "falkon": "falkon",
    "konqueror": "konqueror",
    "qutebrowser": "qutebrowser",
    "evince": "evince",
    "okular": "okular",
    "atril": "atril",
    "mupdf": "mupdf",
    "zathura": "zathura",
    "qpdfview": "qpdfview",
    "xpdf": "xpdf",
}


def _dpkg_versions() -> dict[str, str]:
    require_tool("dpkg-query", "dpkg")
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Status}\t${Version}\n", *PACKAGES],
        capture_output=True,
        text=True,
        check=False,
    )
    versions = {}
    for line in proc.stdout.splitlines():
        name, status, version = line.split("\t")
        if status.endswith(" installed"):
            versions[name] = version
    return versions


def _upstream(debian_version: str) -> str:
    """Debian policy: [epoch:]upstream[-revision]; repack suffixes (+ds, +dfsg, +git…) are not the vendor's."""
    without_epoch = re.sub(r"^\d+:", "", debian_version)
    upstream = without_epoch.rsplit("-", 1)[0] if "-" in without_epoch else without_epoch
    return upstream.split("+")[0]


@pytest.fixture(scope="module")
def inventory() -> dict:
    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or "clientcheck"
    proc = subprocess.run([script, "inventory", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ci_installed_every_system_test_package():
    if not CI:
        pytest.skip("only CI promises to install them")
    assert sorted(_dpkg_versions()) == sorted(PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_reported_version_is_the_packaged_upstream_version(package, inventory):
    versions = _dpkg_versions()
    if package not in versions:
        missing(f"{package} is not installed here (.ci/run installs it)")
    product = PACKAGES[package]
    entries = [item for item in inventory["software"] if item["product"] == product and item["source"] == "dpkg"]
    assert entries, f"{product} ({package}) installed but not reported"
    entry = next(item for item in entries if item["package"] == package)
    assert entry["package_version"] == versions[package]
    assert entry["version"] == _upstream(versions[package])
    assert entry["scope"] == "system"


def test_firefox_esr_is_on_the_esr_track(inventory):
    if "firefox-esr" not in _dpkg_versions():
        missing("firefox-esr is not installed here (.ci/run installs it)")
    firefox = next(item for item in inventory["software"] if item["package"] == "firefox-esr")
    assert firefox["track"] == "esr"
    assert firefox["name"] == "Firefox ESR"
    assert firefox["path"] == "/usr/lib/firefox-esr/firefox-esr"


def test_the_os_is_this_debian_with_its_point_release(inventory):
    if not os.path.exists("/etc/debian_version"):
        pytest.skip("not Debian")
    with open("/etc/debian_version", encoding="utf-8") as stream:
        point = stream.read().strip()
    if not re.fullmatch(r"\d+\.\d+", point):
        pytest.skip(f"a Debian without a point release ({point!r})")
    assert inventory["os"]["id"] == "debian"
    assert inventory["os"]["version"] == point
    assert inventory["os"]["kernel"] == os.uname().release
