"""The pure parsers of Linux file formats, the file reader below an injectable root, the rpm database reader
and the default-application resolution, over real file contents (the captured machines under
tests/fixtures/linux, and os-release files as the distributions ship them)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import sqlite3
import stat
import struct
import urllib.parse
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.inspect import fsroot
from clientcheck.inspect.formats.dpkg import (
    CUT_SHORT,
    DpkgPackage,
    ends_cut_short,
    find_package,
    find_stanza,
    last_stanza_name,
    list_contains,
    list_cut_short,
)
from clientcheck.inspect.formats.keyfile import group_section, key_value, key_values, parse_keyfile, split_list
from clientcheck.inspect.formats.metainfo import MetainfoError, newest_release
from clientcheck.inspect.formats.osrelease import OsReleaseError, parse_os_release
from clientcheck.inspect.formats.pacman import cut_short, entry_name_and_version, files_contain, parse_sections
from clientcheck.inspect.formats.rpmheader import (
    TAG_BASENAMES,
    TAG_DIRINDEXES,
    TAG_DIRNAMES,
    TAG_EPOCH,
    TAG_NAME,
    TAG_RELEASE,
    TAG_VERSION,
    RpmHeader,
    RpmHeaderError,
    RpmPackage,
)
from clientcheck.inspect.formats.snap import top_level_scalars
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux.desktop import default_application, mimeapps_files
from clientcheck.inspect.rpmdb import RpmDatabase, RpmDatabaseError

LINUX = Path(__file__).resolve().parents[1] / "fixtures" / "linux"
DEBIAN = LINUX / "debian-12-desktop" / "root"
UBUNTU = LINUX / "ubuntu-24.04-snaps" / "root"
FEDORA = LINUX / "fedora-41-workstation" / "root"
ARCH = LINUX / "arch-rolling" / "root"
FLATPAK = LINUX / "flatpak-only-user" / "root"
RPMDB = FEDORA / "usr/lib/sysimage/rpm/rpmdb.sqlite"
PACMAN_LOCAL = ARCH / "var/lib/pacman/local"

HYPOTHESIS = settings(max_examples=250, deadline=None)

# os-release ------------------------------------------------------------------------------------------------

# As the distributions ship them (Debian, Ubuntu, Fedora and Arch as in the fixtures; the others as the
# vendors' container images carry them).
OS_RELEASE = {
    "debian-12": """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
    "ubuntu-24.04": """\
PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
""",
    "fedora-41": """\
NAME="Fedora Linux"
VERSION="41 (Workstation Edition)"
RELEASE_TYPE=stable
ID=fedora
VERSION_ID=41
VERSION_CODENAME=""
PLATFORM_ID="platform:f41"
PRETTY_NAME="Fedora Linux 41 (Workstation Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:41"
DEFAULT_HOSTNAME="fedora"
HOME_URL="https://fedoraproject.org/"
DOCUMENTATION_URL="https://docs.fedoraproject.org/en-US/fedora/f41/system-administrators-guide/"
SUPPORT_URL="https://ask.fedoraproject.org/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Fedora"
REDHAT_BUGZILLA_PRODUCT_VERSION=41
REDHAT_SUPPORT_PRODUCT="Fedora"
REDHAT_SUPPORT_PRODUCT_VERSION=41
SUPPORT_END=2025-12-15
VARIANT="Workstation Edition"
VARIANT_ID=workstation
""",
    "arch": """\
NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
""",
    "opensuse-tumbleweed": """\
NAME="openSUSE Tumbleweed"
# VERSION="20241122"
ID="opensuse-tumbleweed"
ID_LIKE="opensuse suse"
VERSION_ID="20241122"
PRETTY_NAME="openSUSE Tumbleweed"
ANSI_COLOR="0;32"
# CPE 2.3 format, boo#1217921
CPE_NAME="cpe:2.3:o:opensuse:tumbleweed:20241122:*:*:*:*:*:*:*"
#CPE 2.2 format
#CPE_NAME="cpe:/o:opensuse:tumbleweed:20241122"
BUG_REPORT_URL="https://bugzilla.opensuse.org"
SUPPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Tumbleweed"
LOGO="distributor-logo-Tumbleweed"
""",
    "rhel-9": """\
NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"
BUG_REPORT_URL="https://issues.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_BUGZILLA_PRODUCT_VERSION=9.4
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.4"
""",
    "alpine-3.20": """\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
""",
}

# (ID, NAME, VERSION_ID, PRETTY_NAME, VERSION or None, key count)
OS_RELEASE_EXPECTED = {
    "debian-12": ("debian", "Debian GNU/Linux", "12", "Debian GNU/Linux 12 (bookworm)", "12 (bookworm)", 9),
    "ubuntu-24.04": ("ubuntu", "Ubuntu", "24.04", "Ubuntu 24.04.1 LTS", "24.04.1 LTS (Noble Numbat)", 13),
    "fedora-41": (
        "fedora",
        "Fedora Linux",
        "41",
        "Fedora Linux 41 (Workstation Edition)",
        "41 (Workstation Edition)",
        23,
    ),
    "arch": ("arch", "Arch Linux", None, "Arch Linux", None, 11),
    "opensuse-tumbleweed": ("opensuse-tumbleweed", "openSUSE Tumbleweed", "20241122", "openSUSE Tumbleweed", None, 12),
    "rhel-9": (
        "rhel",
        "Red Hat Enterprise Linux",
        "9.4",
        "Red Hat Enterprise Linux 9.4 (Plow)",
        "9.4 (Plow)",
        17,
    ),
    "alpine-3.20": ("alpine", "Alpine Linux", "3.20.3", "Alpine Linux v3.20", None, 6),
}


@pytest.mark.parametrize("case", list(OS_RELEASE), ids=str)
def test_real_os_release_files_parse(case: str):
    values = parse_os_release(OS_RELEASE[case])
    os_id, name, version_id, pretty, version, count = OS_RELEASE_EXPECTED[case]
    assert values["ID"] == os_id
    assert values["NAME"] == name
    assert values.get("VERSION_ID") == version_id
    assert values["PRETTY_NAME"] == pretty
    assert values.get("VERSION") == version
    assert len(values) == count
    assert all('"' not in value and "'" not in value for value in values.values())


def test_os_release_details_of_real_files():
    fedora = parse_os_release(OS_RELEASE["fedora-41"])
    assert fedora["VERSION_CODENAME"] == ""  # VERSION_CODENAME="" is an empty value, not a missing one
    assert fedora["ANSI_COLOR"] == "0;38;2;60;110;180"
    assert fedora["SUPPORT_END"] == "2025-12-15"
    tumbleweed = parse_os_release(OS_RELEASE["opensuse-tumbleweed"])
    assert "VERSION" not in tumbleweed  # only in a comment
    assert tumbleweed["CPE_NAME"] == "cpe:2.3:o:opensuse:tumbleweed:20241122:*:*:*:*:*:*:*"  # not the commented one
    assert tumbleweed["ID_LIKE"] == "opensuse suse"
    rhel = parse_os_release(OS_RELEASE["rhel-9"])  # a blank line in the middle
    assert rhel["REDHAT_BUGZILLA_PRODUCT_VERSION"] == "9.4"
    assert rhel["REDHAT_SUPPORT_PRODUCT_VERSION"] == "9.4"


@pytest.mark.parametrize(
    "case",
    sorted(p.name for p in LINUX.iterdir() if (p / "root/etc/os-release").exists() and p.name != "broken-osrelease"),
    ids=str,
)
def test_os_release_of_every_fixture_machine(case: str):
    expected = json.loads((LINUX / case / "expected.json").read_text(encoding="utf-8"))["os"]
    text = (LINUX / case / "root/etc/os-release").read_text(encoding="utf-8")
    values = parse_os_release(text)
    assert values["ID"] == expected["id"]
    assert values["NAME"] == expected["name"]


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        pytest.param(
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
            "PRETTY_NAME",
            "Debian GNU/Linux 12 (bookworm)",
            id="double-quotes-with-spaces",
        ),
        pytest.param('VARIANT="The \\"Best\\" Edition"', "VARIANT", 'The "Best" Edition', id="escaped-double-quote"),
        pytest.param('VARIANT="back\\\\slash"', "VARIANT", "back\\slash", id="escaped-backslash"),
        pytest.param('VARIANT="costs \\$5 \\`now\\`"', "VARIANT", "costs $5 `now`", id="escaped-dollar-backtick"),
        pytest.param('VARIANT="C:\\path"', "VARIANT", "C:\\path", id="backslash-before-ordinary-char-kept"),
        pytest.param('VARIANT="ends with \\\\"', "VARIANT", "ends with \\", id="escaped-backslash-at-end"),
        pytest.param("PRETTY_NAME='Alpine Linux v3.20'", "PRETTY_NAME", "Alpine Linux v3.20", id="single-quotes"),
        pytest.param(
            "VARIANT='no \\\"escapes\\\" here'", "VARIANT", 'no \\"escapes\\" here', id="single-quotes-literal"
        ),
        pytest.param("VARIANT='say \"hi\"'", "VARIANT", 'say "hi"', id="double-quotes-inside-single"),
        pytest.param("VERSION_CODENAME=bookworm", "VERSION_CODENAME", "bookworm", id="unquoted"),
        pytest.param(
            "CPE_NAME=cpe:/o:fedoraproject:fedora:41",
            "CPE_NAME",
            "cpe:/o:fedoraproject:fedora:41",
            id="unquoted-with-colons",
        ),
        pytest.param('VERSION_CODENAME=""', "VERSION_CODENAME", "", id="empty-double-quotes"),
        pytest.param("VERSION_CODENAME=''", "VERSION_CODENAME", "", id="empty-single-quotes"),
        pytest.param("VERSION_CODENAME=", "VERSION_CODENAME", "", id="empty-unquoted"),
        pytest.param('   VERSION_ID="12"   ', "VERSION_ID", "12", id="surrounding-whitespace"),
        pytest.param(
            'HOME_URL="https://www.debian.org/?a=b"',
            "HOME_URL",
            "https://www.debian.org/?a=b",
            id="equals-sign-in-value",
        ),
        pytest.param("_PRIVATE_2=x", "_PRIVATE_2", "x", id="underscore-and-digit-key"),
    ],
)
def test_os_release_quoting(line: str, key: str, value: str):
    values = parse_os_release(f"ID=debian\n{line}\n")
    assert values[key] == value
    assert values["ID"] == "debian"


def test_os_release_comments_and_blank_lines_are_ignored():
    text = '# written by hand\n\n   # indented comment\nNAME="Debian GNU/Linux"\n\n\n#ID=ubuntu\nID=debian\n\n'
    assert parse_os_release(text) == {"NAME": "Debian GNU/Linux", "ID": "debian"}


def test_os_release_later_assignment_wins_as_in_the_shell():
    assert parse_os_release("ID=debian\nID=ubuntu\n")["ID"] == "ubuntu"


@pytest.mark.parametrize(
    ("bad_line", "bad_key"),
    [
        pytest.param('VARIANT="Desktop Edition', "VARIANT", id="unbalanced-double-quote"),
        pytest.param("VARIANT='Desktop Edition", "VARIANT", id="unbalanced-single-quote"),
        pytest.param('VARIANT="', "VARIANT", id="lone-quote"),
        pytest.param("VARIANT=Workstation Edition", "VARIANT", id="unquoted-with-space"),
        pytest.param("VARIANT=it's", "VARIANT", id="unquoted-with-quote"),
        pytest.param("this is not an assignment", None, id="no-equals-sign"),
        pytest.param("=debian", None, id="empty-key"),
        pytest.param("1ID=debian", "1ID", id="key-starts-with-digit"),
        pytest.param("SUPPORT-URL=https://www.debian.org/support", "SUPPORT-URL", id="key-with-dash"),
        pytest.param("export ID=ubuntu", "export ID", id="shell-export"),
        pytest.param("ID =ubuntu", "ID ", id="space-before-equals"),
    ],
)
def test_os_release_bad_line_is_skipped_and_the_rest_parses(bad_line: str, bad_key: str | None):
    lines = OS_RELEASE["debian-12"].splitlines()
    lines.insert(4, bad_line)
    values = parse_os_release("\n".join(lines) + "\n")
    assert values == parse_os_release(OS_RELEASE["debian-12"])
    if bad_key is not None:
        assert bad_key not in values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "no ID or NAME", id="empty"),
        pytest.param("\n\n# nothing here\n", "no ID or NAME", id="only-comments"),
        pytest.param('VERSION_ID="12"\nVERSION="12 (bookworm)"\n', "no ID or NAME", id="no-id-or-name"),
        pytest.param("ID=\nNAME=\n", "no ID or NAME", id="empty-id-and-name"),
        pytest.param('NAME="Debian GNU/Linux\n', "line 1: unbalanced quotes", id="unbalanced-name"),
        pytest.param("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n", "line 1", id="html-page"),
        pytest.param('#!/bin/sh\nexec /sbin/init "$@"\n', "line 2", id="shell-script"),
        pytest.param("\x7fELF\x02\x01\x01\x00\x00\x00\x00", "line 1", id="binary"),
    ],
)
def test_os_release_garbage_raises(text: str, message: str):
    with pytest.raises(OsReleaseError, match=message):
        parse_os_release(text)


def test_os_release_of_the_broken_fixture_raises():
    data = (LINUX / "broken-osrelease/root/etc/os-release").read_bytes()
    with pytest.raises(OsReleaseError, match="line 1"):
        parse_os_release(data.decode("utf-8", errors="replace"))


_OS_RELEASE_LINES = [*OS_RELEASE["fedora-41"].splitlines(), 'X="', "'", "=", "\\", "# c", ""]


@HYPOTHESIS
@given(st.text() | st.lists(st.sampled_from(_OS_RELEASE_LINES)).map("\n".join))
def test_os_release_never_raises_anything_but_its_error(text: str):
    try:
        values = parse_os_release(text)
    except OsReleaseError:
        return
    assert values.get("ID") or values.get("NAME")
    assert all(isinstance(value, str) for value in values.values())


# Key files (desktop entries, mimeapps.list, application.ini) --------------------------------------------

EVINCE_DESKTOP = (FEDORA / "usr/share/applications/org.gnome.Evince.desktop").read_text(encoding="utf-8")
CHROME_DESKTOP = (FEDORA / "usr/share/applications/google-chrome.desktop").read_text(encoding="utf-8")
FIREFOX_INI = (FEDORA / "usr/lib64/firefox/application.ini").read_text(encoding="utf-8")


def test_parse_keyfile_real_desktop_entry():
    groups = parse_keyfile(EVINCE_DESKTOP)
    assert list(groups) == ["Desktop Entry", "Desktop Action new-window"]
    entry = groups["Desktop Entry"]
    assert entry["Name"] == "Document Viewer"
    assert entry["Exec"] == "evince %U"
    assert entry["TryExec"] == "evince"
    assert entry["Type"] == "Application"
    assert "application/pdf" in split_list(entry["MimeType"])
    assert entry["Name[de]"] == "Dokumentenbetrachter"  # localised keys are kept under their full name
    assert entry["Comment[de]"] == "Mehrseitige Dokumente anzeigen"
    assert "Name[sr@latin]" in entry
    assert not any(key.startswith("#") for key in entry)  # the translators' comments are not keys
    action = groups["Desktop Action new-window"]
    assert action["Exec"] == "evince --new-window"
    assert action["Name"] == "New Window"
    assert action["Name[de]"] == "Neues Fenster"


def test_parse_keyfile_real_application_ini():
    groups = parse_keyfile(FIREFOX_INI)  # starts with ';' comments
    assert list(groups) == ["App", "Gecko", "XRE", "Crash Reporter"]
    assert groups["App"]["Version"] == "132.0.2"
    assert groups["App"]["RemotingName"] == "firefox"
    assert groups["App"]["ID"] == "{ec8030f7-c20a-464f-9b0e-13a3a9e97384}"
    # The value keeps every '=' after the first one.
    assert groups["Crash Reporter"]["ServerURL"] == (
        "https://crash-reports.mozilla.com/submit?id={ec8030f7-c20a-464f-9b0e-13a3a9e97384}"
        "&version=132.0.2&buildid=20241112103834"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[Desktop Entry]\nExec=first\nExec=second\n", {"Desktop Entry": {"Exec": "first"}}, id="first-key-wins"
        ),
        pytest.param(
            "[Desktop Entry]\nName=Firefox\n[Desktop Entry]\nName=Other\nIcon=other\n",
            {"Desktop Entry": {"Name": "Firefox"}},
            id="first-group-wins",
        ),
        pytest.param(
            "Name=orphan\n[Desktop Entry]\nName=Firefox\n",
            {"Desktop Entry": {"Name": "Firefox"}},
            id="key-before-any-group-ignored",
        ),
        pytest.param(
            "[Desktop Entry]\n# Name=commented\n; Icon=commented\nName=Firefox\n",
            {"Desktop Entry": {"Name": "Firefox"}},
            id="hash-and-semicolon-comments",
        ),
        pytest.param(
            "[Desktop Entry]\nName = Firefox \n\tIcon\t=\tfirefox\n",
            {"Desktop Entry": {"Name": "Firefox", "Icon": "firefox"}},
            id="spaces-around-equals",
        ),
        pytest.param(
            "[Desktop Entry]\nnot a key value line\n=no key\nName=Firefox\n",
            {"Desktop Entry": {"Name": "Firefox"}},
            id="bad-lines-skipped",
        ),
        pytest.param(
            "[Desktop Entry]\r\nName=Firefox\r\nExec=firefox %u\r\n",
            {"Desktop Entry": {"Name": "Firefox", "Exec": "firefox %u"}},
            id="crlf",
        ),
        pytest.param(
            "[Empty]\n\n[Desktop Entry]\nName=Firefox\n",
            {"Empty": {}, "Desktop Entry": {"Name": "Firefox"}},
            id="empty-group",
        ),
        pytest.param("", {}, id="empty-text"),
    ],
)
def test_parse_keyfile_rules(text: str, expected: dict):
    assert parse_keyfile(text) == expected


def test_group_section_returns_the_text_up_to_the_next_group():
    section = group_section(CHROME_DESKTOP, "Desktop Action new-window")
    assert section is not None
    assert section.startswith("\nName=New Window\n")
    assert section.endswith("\nExec=/usr/bin/google-chrome-stable\n")
    assert "--incognito" not in section
    assert "\n[" not in section
    assert section + "\n" == CHROME_DESKTOP.split("[Desktop Action new-window]")[1].split("[Desktop Action ")[0]
    entry = group_section(CHROME_DESKTOP, "Desktop Entry")
    assert entry is not None
    assert "Exec=/usr/bin/google-chrome-stable %U" in entry
    assert "[Desktop Action" not in entry
    last = group_section(CHROME_DESKTOP, "Desktop Action new-private-window")
    assert last is not None
    assert key_value(last, "Exec") == "/usr/bin/google-chrome-stable --incognito"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[Default Applications]\napplication/pdf=a.desktop\n",
            "\napplication/pdf=a.desktop\n",
            id="header-at-start-of-text",
        ),
        pytest.param(
            "# see [Default Applications] below\n[Default Applications]\napplication/pdf=a.desktop\n",
            "\napplication/pdf=a.desktop\n",
            id="header-mentioned-in-comment-first",
        ),
        pytest.param(
            "[Added Associations]\nX-Note=[Default Applications]\napplication/pdf=b.desktop;\n"
            "[Default Applications]\napplication/pdf=a.desktop\n",
            "\napplication/pdf=a.desktop\n",
            id="header-inside-a-value-first",
        ),
        pytest.param("x [Default Applications]\napplication/pdf=a.desktop\n", None, id="header-mid-line-only"),
        pytest.param("  [Default Applications]\napplication/pdf=a.desktop\n", None, id="indented-header"),
        pytest.param("[Default Applications] extra\napplication/pdf=a.desktop\n", None, id="header-not-alone"),
        pytest.param(
            "[Default Applications] extra\napplication/pdf=wrong.desktop\n[Default Applications]\napplication/pdf=a\n",
            "\napplication/pdf=a\n",
            id="header-not-alone-then-real-header",
        ),
        pytest.param(
            "[Default Applications]  \t\napplication/pdf=a.desktop\n",
            "\napplication/pdf=a.desktop\n",
            id="trailing-blanks-after-header",
        ),
        pytest.param("[Default Applications]", "", id="header-last-line-without-newline"),
        pytest.param("[Default Applications]\n", "\n", id="empty-group"),
        pytest.param("[Added Associations]\napplication/pdf=a.desktop;\n", None, id="missing-group"),
        pytest.param("[Default Applications Extra]\napplication/pdf=a.desktop\n", None, id="longer-group-name"),
        pytest.param("", None, id="empty-text"),
        pytest.param(
            "[Default Applications]\napplication/pdf=a.desktop\n[Default Applications]\napplication/pdf=b.desktop\n",
            "\napplication/pdf=a.desktop\napplication/pdf=b.desktop\n",
            id="duplicate-groups-read-as-one-in-file-order",
        ),
    ],
)
def test_group_section(text: str, expected: str | None):
    assert group_section(text, "Default Applications") == expected


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        pytest.param("\nExec=evince %U\n", "Exec", "evince %U", id="plain"),
        pytest.param("\nExec = evince %U \n", "Exec", "evince %U", id="spaces-around-equals"),
        pytest.param("\nExec\t=\tevince %U\n", "Exec", "evince %U", id="tabs-around-equals"),
        pytest.param("\nTryExec=evince\nExec=evince %U\n", "Exec", "evince %U", id="tryexec-first"),
        pytest.param("\nExecX=wrong\nExec=right\n", "Exec", "right", id="longer-key-first"),
        pytest.param("\nExec[de]=falsch\nExec=right\n", "Exec", "right", id="localised-key-first"),
        pytest.param("\nExec[de]=falsch\n", "Exec", None, id="only-localised-key"),
        pytest.param("\nExecX=wrong\n", "Exec", None, id="only-longer-key"),
        pytest.param("\nExec=first\nExec=second\n", "Exec", "first", id="first-occurrence-wins"),
        pytest.param("\n#Exec=commented\nExec=real\n", "Exec", "real", id="commented-first"),
        pytest.param("\nComment=Exec=not a key\n", "Exec", None, id="key-inside-value"),
        pytest.param("Exec=on the first line", "Exec", "on the first line", id="section-without-leading-newline"),
        pytest.param("\nExec=", "Exec", "", id="empty-value-at-end"),
        pytest.param("\nExec=firefox %u\r\nName=Firefox\r\n", "Exec", "firefox %u", id="crlf"),
        pytest.param(
            "\nName=Document Viewer\nName[de]=Dokumentenbetrachter\n",
            "Name[de]",
            "Dokumentenbetrachter",
            id="localised-lookup",
        ),
        pytest.param(
            "\napplication/pdf+xml=wrong\napplication/pdf=a.desktop;\n",
            "application/pdf",
            "a.desktop;",
            id="mime-type-key-prefix",
        ),
        pytest.param("", "Exec", None, id="empty-section"),
    ],
)
def test_key_value(section: str, key: str, expected: str | None):
    assert key_value(section, key) == expected


def test_key_values_on_a_real_desktop_entry():
    section = group_section(EVINCE_DESKTOP, "Desktop Entry")
    assert section is not None
    assert key_values(section, ("Exec", "TryExec", "NoDisplay", "Name")) == {
        "Exec": "evince %U",
        "TryExec": "evince",
        "Name": "Document Viewer",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("application/pdf;image/tiff;", ["application/pdf", "image/tiff"], id="trailing-semicolon"),
        pytest.param("application/pdf;image/tiff", ["application/pdf", "image/tiff"], id="no-trailing-semicolon"),
        pytest.param(
            " org.gnome.Evince.desktop ; ;okular.desktop;",
            ["org.gnome.Evince.desktop", "okular.desktop"],
            id="blanks-and-empty-items",
        ),
        pytest.param("", [], id="empty"),
        pytest.param(";;", [], id="only-separators"),
    ],
)
def test_split_list(value: str, expected: list[str]):
    assert split_list(value) == expected


_GROUP_NAME = st.from_regex(r"\A[A-Za-z][A-Za-z0-9 .-]{0,12}[A-Za-z0-9]\Z")
_KEY = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,6}(\[[a-z]{2}(_[A-Z]{2})?\])?\Z")
_VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=20,
)


@st.composite
def _keyfiles(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for name in draw(st.lists(_GROUP_NAME, min_size=1, max_size=4)):
        lines.append(f"[{name}]")
        for key, value, spaces, comment in draw(
            st.lists(st.tuples(_KEY, _VALUE, st.sampled_from(["", " ", "\t", " \t "]), st.booleans()), max_size=6)
        ):
            if comment:
                lines.append(f"# {key}={value}")
            lines.append(f"{key}{spaces}={spaces}{value}")
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@HYPOTHESIS
@given(_keyfiles())
def test_fast_lookups_agree_with_the_full_parser(text: str):
    groups = parse_keyfile(text)
    for group, keys in groups.items():
        section = group_section(text, group)
        assert section is not None, group
        for key, value in keys.items():
            assert key_value(section, key) == value, (group, key)


@HYPOTHESIS
@given(st.text(), st.text(max_size=30), st.text(max_size=10))
def test_keyfile_functions_never_raise(text: str, group: str, key: str):
    assert isinstance(parse_keyfile(text), dict)
    section = group_section(text, group)
    assert section is None or isinstance(section, str)
    result = key_value(section if section is not None else text, key)
    assert result is None or isinstance(result, str)


# dpkg -----------------------------------------------------------------------------------------------------

DEBIAN_STATUS = (DEBIAN / "var/lib/dpkg/status").read_bytes()
TRUNCATED_STATUS = (LINUX / "broken-dpkg-truncated/root/var/lib/dpkg/status").read_bytes()


def _stanzas(status: bytes) -> list[bytes]:
    """The stanzas of a status file, split the obvious way: the oracle for the fast look-up."""
    return [stanza for stanza in status.split(b"\n\n") if stanza.strip()]


def _stanza_name(stanza: bytes) -> str:
    return stanza.split(b"\n", 1)[0].removeprefix(b"Package: ").decode()


def _found(status: bytes, name: str) -> bytes | None:
    """find_stanza's answer without the final newline a stanza at the very end of a file keeps."""
    stanza = find_stanza(status, name)
    return stanza.rstrip(b"\n") if stanza is not None else None


def _status_of(stanzas: list[bytes]) -> bytes:
    return b"".join(stanza + b"\n\n" for stanza in stanzas)


@pytest.mark.parametrize(
    ("name", "version", "architecture", "installed"),
    [
        pytest.param("adduser", "3.134", "all", True, id="first-stanza"),
        pytest.param("zlib1g", "1:1.2.13.dfsg-1", "amd64", True, id="last-stanza"),
        pytest.param("evince", "43.1-2+deb12u1", "amd64", True, id="evince-prefix-of-evince-common"),
        pytest.param("evince-common", "43.1-2+deb12u1", "all", True, id="evince-common"),
        pytest.param("chromium", "130.0.6723.116-1~deb12u1", "amd64", True, id="chromium-prefix-of-chromium-common"),
        pytest.param("firefox-esr", "128.3.0esr-1~deb12u1", "amd64", True, id="firefox-esr"),
        pytest.param("google-chrome-stable", "131.0.6778.85-1", "amd64", True, id="google-chrome-stable"),
        pytest.param("libc6", "2.36-9+deb12u9", "amd64", True, id="libc6-after-libc-bin"),
        pytest.param("okular", "4:22.12.3-1+deb12u1", "amd64", True, id="epoch-version"),
        pytest.param("bsdutils", "1:2.38.1-5+deb12u3", "amd64", True, id="essential-before-status"),
        pytest.param("xpdf", "3.04+git20220601-1+b2", "amd64", False, id="deinstall-ok-config-files"),
    ],
)
def test_find_package_in_a_real_sorted_status(name: str, version: str, architecture: str, installed: bool):
    package = find_package(DEBIAN_STATUS, name)
    assert package == DpkgPackage(name=name, version=version, architecture=architecture, installed=installed)
    stanza = find_stanza(DEBIAN_STATUS, name)
    assert stanza is not None
    assert stanza.startswith(f"Package: {name}\n".encode())
    assert b"\n\n" not in stanza
    assert stanza in _stanzas(DEBIAN_STATUS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("firefox", id="prefix-of-firefox-esr"),
        pytest.param("evinc", id="prefix-of-evince"),
        pytest.param("evince-commo", id="prefix-of-evince-common"),
        pytest.param("chromium-common-extra", id="longer-than-chromium-common"),
        pytest.param("aaa", id="before-first"),
        pytest.param("zzz", id="after-last"),
        pytest.param("Evince", id="wrong-case"),
        pytest.param("", id="empty-name"),
    ],
)
def test_find_package_absent_names(name: str):
    assert find_stanza(DEBIAN_STATUS, name) is None
    assert find_package(DEBIAN_STATUS, name) is None


@pytest.mark.parametrize(
    "case",
    sorted(p.name for p in LINUX.iterdir() if (p / "root/var/lib/dpkg/status").exists()),
    ids=str,
)
def test_find_stanza_finds_every_package_of_every_fixture(case: str):
    status = (LINUX / case / "root/var/lib/dpkg/status").read_bytes()
    stanzas = _stanzas(status)
    assert stanzas
    for stanza in stanzas:
        assert _found(status, _stanza_name(stanza)) == stanza.rstrip(b"\n")


def _shuffled(status: bytes, seed: int) -> bytes:
    stanzas = _stanzas(status)
    random.Random(seed).shuffle(stanzas)  # noqa: S311 - a reproducible order, not a secret
    return _status_of(stanzas)


@pytest.mark.parametrize("order", ["reversed", "shuffled-1", "shuffled-2"], ids=str)
def test_find_stanza_on_an_unsorted_status_falls_back_to_a_full_search(order: str):
    stanzas = _stanzas(DEBIAN_STATUS)
    status = _status_of(stanzas[::-1]) if order == "reversed" else _shuffled(DEBIAN_STATUS, int(order[-1]))
    for stanza in stanzas:
        assert find_stanza(status, _stanza_name(stanza)) == stanza
    for absent in ("firefox", "evinc", "aaa", "zzz"):
        assert find_stanza(status, absent) is None


def _stanza_named(status: bytes, name: str) -> bytes:
    return next(stanza for stanza in _stanzas(status) if _stanza_name(stanza) == name)


def test_firefox_and_firefox_esr_side_by_side():
    # Ubuntu's transitional firefox deb next to Debian's firefox-esr, as on a machine with both.
    ubuntu_status = (UBUNTU / "var/lib/dpkg/status").read_bytes()
    firefox = _stanza_named(ubuntu_status, "firefox")
    neighbours = [_stanza_named(DEBIAN_STATUS, n) for n in ("evince", "evince-common", "findutils", "firefox-esr")]
    status = _status_of(sorted([firefox, *neighbours], key=_stanza_name))
    assert find_package(status, "firefox") == DpkgPackage("firefox", "1:1snap1-0ubuntu5", "amd64", True)
    assert find_package(status, "firefox-esr") == DpkgPackage("firefox-esr", "128.3.0esr-1~deb12u1", "amd64", True)
    for unsorted in (_status_of([neighbours[-1], firefox, *neighbours[:-1]]), _status_of([firefox, *neighbours][::-1])):
        assert find_package(unsorted, "firefox") == DpkgPackage("firefox", "1:1snap1-0ubuntu5", "amd64", True)
        assert find_package(unsorted, "firefox-esr").version == "128.3.0esr-1~deb12u1"


def test_find_stanza_in_empty_bytes():
    assert find_stanza(b"", "evince") is None
    assert find_package(b"", "evince") is None
    assert find_stanza(b"\n\n\n", "evince") is None


def test_truncated_last_stanza_is_cut_short():
    # The fixture's last stanza (evince, out of order) stops in the middle of "Version:".
    assert TRUNCATED_STATUS.endswith(b"Architecture: amd64\nVer")
    assert find_package(TRUNCATED_STATUS, "evince") == DpkgPackage("evince", None, "amd64", True, CUT_SHORT)
    assert find_package(TRUNCATED_STATUS, "firefox-esr") == DpkgPackage(
        "firefox-esr", "128.3.0esr-1~deb12u1", "amd64", True
    )
    assert find_package(TRUNCATED_STATUS, "zlib1g") is not None
    assert ends_cut_short(TRUNCATED_STATUS)
    assert last_stanza_name(TRUNCATED_STATUS) == "evince"


@pytest.mark.parametrize(
    ("cut_after", "version", "architecture"),
    [
        pytest.param(b"Package: zlib1g\n", None, None, id="after-package-line"),
        pytest.param(b"Package: zlib1g\nStatus: install ok installed\n", None, None, id="after-status"),
        pytest.param(
            b"Architecture: amd64\nMulti-Arch: same\nSource: zlib\nVersion: 1:1.2",
            "1:1.2",
            "amd64",
            id="inside-version",
        ),
        pytest.param(b"Version: 1:1.2.13.dfsg-1\n", "1:1.2.13.dfsg-1", "amd64", id="after-version"),
        pytest.param(b"Homepage: http://zlib.net/\n", "1:1.2.13.dfsg-1", "amd64", id="without-the-blank-line"),
    ],
)
def test_sorted_status_cut_inside_the_last_stanza(cut_after: bytes, version: str | None, architecture: str | None):
    """Whatever the stanza still holds, the end of the file cut it: its fields are not to be trusted."""
    start = DEBIAN_STATUS.rindex(b"Package: zlib1g")
    cut = DEBIAN_STATUS.index(cut_after, start) + len(cut_after)
    status = DEBIAN_STATUS[:cut]
    package = find_package(status, "zlib1g")
    assert package is not None
    assert (package.name, package.version, package.architecture) == ("zlib1g", version, architecture)
    assert package.problem == CUT_SHORT
    assert (ends_cut_short(status), last_stanza_name(status)) == (True, "zlib1g")
    assert find_package(status, "xpdf") == DpkgPackage("xpdf", "3.04+git20220601-1+b2", "amd64", False)
    assert find_package(status, "adduser").problem is None


@pytest.mark.parametrize(
    ("status_line", "installed"),
    [
        pytest.param("install ok installed", True, id="installed"),
        pytest.param("hold ok installed", True, id="held"),
        pytest.param("install ok unpacked", True, id="unpacked"),
        pytest.param("install ok half-configured", True, id="half-configured"),
        pytest.param("install ok triggers-pending", True, id="triggers-pending"),
        pytest.param("install ok triggers-awaited", True, id="triggers-awaited"),
        pytest.param("deinstall ok config-files", False, id="config-files"),
        pytest.param("purge ok not-installed", False, id="not-installed"),
        pytest.param("install reinstreq half-installed", False, id="half-installed"),
        pytest.param("install ok", False, id="two-words"),
        pytest.param("", False, id="empty"),
    ],
)
def test_installed_follows_the_status_field(status_line: str, installed: bool):
    original = _stanza_named(DEBIAN_STATUS, "evince")
    stanza = original.replace(b"Status: install ok installed", b"Status: " + status_line.encode())
    assert find_package(stanza + b"\n\n", "evince").installed is installed


def _multiarch_status(states: dict[str, str]) -> bytes:
    """The real status with libgcc-s1 (Multi-Arch: same) once per architecture, in dpkg's order."""
    original = _stanza_named(DEBIAN_STATUS, "libgcc-s1")
    copies = [
        original.replace(b"Status: install ok installed", f"Status: {state}".encode()).replace(
            b"Architecture: amd64", f"Architecture: {architecture}".encode()
        )
        for architecture, state in sorted(states.items())
    ]
    stanzas = _stanzas(DEBIAN_STATUS)
    index = stanzas.index(original)
    return _status_of([*stanzas[:index], *copies, *stanzas[index + 1 :]])


@pytest.mark.parametrize(
    ("states", "architecture"),
    [
        pytest.param({"amd64": "install ok installed", "i386": "deinstall ok config-files"}, "amd64", id="first"),
        pytest.param({"amd64": "deinstall ok config-files", "i386": "install ok installed"}, "i386", id="second"),
        pytest.param(
            {
                "amd64": "deinstall ok config-files",
                "arm64": "deinstall ok config-files",
                "i386": "install ok installed",
            },
            "i386",
            id="third-of-three",
        ),
        pytest.param(
            {"amd64": "purge ok not-installed", "arm64": "install ok installed", "i386": "deinstall ok config-files"},
            "arm64",
            id="middle-of-three",
        ),
    ],
)
def test_multiarch_package_reports_its_installed_stanza(states: dict[str, str], architecture: str):
    status = _multiarch_status(states)
    for ordered in (status, _status_of(_stanzas(status)[::-1])):
        package = find_package(ordered, "libgcc-s1")
        assert package == DpkgPackage("libgcc-s1", "12.2.0-14+deb12u1", architecture, True)
        assert find_package(ordered, "libgcc-s1") == package
        assert find_package(ordered, "libc6").version == "2.36-9+deb12u9"  # the neighbours are unaffected


def test_multiarch_package_installed_nowhere():
    status = _multiarch_status({"amd64": "deinstall ok config-files", "i386": "deinstall ok config-files"})
    package = find_package(status, "libgcc-s1")
    assert package is not None
    assert package.installed is False


def test_stanza_without_status_is_not_installed():
    stanza = _stanza_named(DEBIAN_STATUS, "evince").replace(b"Status: install ok installed\n", b"")
    assert find_package(stanza + b"\n\n", "evince") == DpkgPackage("evince", "43.1-2+deb12u1", "amd64", False)


EVINCE_LIST = (DEBIAN / "var/lib/dpkg/info/evince.list").read_bytes()


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        pytest.param("/.", True, id="first-line"),
        pytest.param("/usr/bin/evince", True, id="middle-line"),
        pytest.param("/usr/share/applications/org.gnome.Evince.desktop", True, id="desktop-entry"),
        pytest.param("/usr/share/thumbnailers/evince.thumbnailer", True, id="last-line"),
        pytest.param("/usr/bin/evinc", False, id="prefix-of-a-listed-path"),
        pytest.param("/usr/bin/evince-previewe", False, id="prefix-of-last-component"),
        pytest.param("/usr/share/applications/org.gnome.Evince", False, id="prefix-without-suffix"),
        pytest.param("usr/bin/evince", False, id="without-leading-slash"),
        pytest.param("/bin/evince", False, id="suffix-of-a-listed-path"),
        pytest.param("/usr/bin/okular", False, id="not-listed"),
    ],
)
def test_list_contains_on_a_real_list(path: str, listed: bool):
    assert EVINCE_LIST.splitlines()[0] == b"/."
    assert EVINCE_LIST.splitlines()[-1] == b"/usr/share/thumbnailers/evince.thumbnailer"
    assert list_contains(EVINCE_LIST, path) is listed
    assert not list_cut_short(EVINCE_LIST)
    # Without the final newline the last line may be cut: it names nothing.
    last = path == "/usr/share/thumbnailers/evince.thumbnailer"
    assert list_contains(EVINCE_LIST.rstrip(b"\n"), path) is (listed and not last)
    assert list_cut_short(EVINCE_LIST.rstrip(b"\n"))


def test_list_contains_on_a_one_line_list():
    assert not list_contains(b"/usr/bin/evince", "/usr/bin/evince")  # no newline: maybe /usr/bin/evince-previewer
    assert list_contains(b"/usr/bin/evince\n", "/usr/bin/evince")
    assert not list_contains(b"/usr/bin/evince-previewer\n", "/usr/bin/evince")
    assert not list_contains(b"", "/usr/bin/evince")
    assert (list_cut_short(b""), list_cut_short(b"/.\n"), list_cut_short(b"/.\n/usr/bin/evi")) == (False, False, True)


_DPKG_NAME = st.from_regex(r"\A[a-z0-9][a-z0-9+.-]{1,14}\Z")


@HYPOTHESIS
@given(st.lists(_DPKG_NAME, min_size=1, max_size=25, unique=True), st.lists(_DPKG_NAME, max_size=5), st.booleans())
def test_find_stanza_agrees_with_a_full_split(names: list[str], others: list[str], shuffle: bool):
    stanzas = [
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {i}.0-1\nDescription: {name}\n"
        f" Package: {name} is long\n".encode()
        for i, name in enumerate(sorted(names))
    ]
    if shuffle:
        random.Random(len(names)).shuffle(stanzas)  # noqa: S311 - a reproducible order, not a secret
    status = b"\n".join(stanzas)
    expected = {_stanza_name(stanza): stanza.rstrip(b"\n") for stanza in stanzas}
    for name in [*names, *others]:
        assert _found(status, name) == expected.get(name)


@HYPOTHESIS
@given(
    st.binary(max_size=300)
    | st.lists(st.sampled_from([b"Package: ", b"evince", b"evince-common", b"\n", b"\n\n", b"Status: ", b" "])).map(
        b"".join
    ),
    st.text(max_size=20) | st.sampled_from(["evince", "evince-common", ""]),
)
def test_find_stanza_never_raises(status: bytes, name: str):
    stanza = find_stanza(status, name)
    if stanza is not None:
        assert stanza.startswith(b"Package:")
        package = find_package(status, name)
        assert package is not None
        assert isinstance(package.installed, bool)


# pacman ---------------------------------------------------------------------------------------------------


def test_parse_sections_of_a_real_desc():
    desc = (PACMAN_LOCAL / "zathura-pdf-mupdf-0.4.4-7/desc").read_text(encoding="utf-8")
    sections = parse_sections(desc)
    assert sections["NAME"] == ["zathura-pdf-mupdf"]
    assert sections["VERSION"] == ["0.4.4-7"]
    assert sections["ARCH"] == ["x86_64"]
    assert sections["DEPENDS"] == [
        "cairo", "girara", "glib2", "glibc", "gumbo-parser", "jbig2dec", "libjpeg-turbo", "libmupdf", "openjpeg2",
        "zathura",
    ]  # fmt: skip
    assert sections["CONFLICTS"] == ["zathura-pdf-poppler"]
    assert sections["XDATA"] == ["pkgtype=pkg"]
    assert sections["PACKAGER"] == ["Johannes L\u00f6thberg <johannes@kyriasis.com>"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "%NAME%\nfirefox\n\n%VERSION%\n132.0.2-1\n",
            {"NAME": ["firefox"], "VERSION": ["132.0.2-1"]},
            id="two-sections",
        ),
        pytest.param("stray\n%NAME%\nfirefox\n", {"NAME": ["firefox"]}, id="line-before-any-section"),
        pytest.param("%NAME%\nfirefox\n\nstray\n", {"NAME": ["firefox"]}, id="line-after-blank"),
        pytest.param("%%\nx\n%NAME%\nfirefox\n", {"NAME": ["firefox"]}, id="empty-header-not-a-section"),
        pytest.param("%EMPTY%\n\n%NAME%\nfirefox", {"EMPTY": [], "NAME": ["firefox"]}, id="empty-section"),
        pytest.param("", {}, id="empty-text"),
    ],
)
def test_parse_sections_rules(text: str, expected: dict):
    assert parse_sections(text) == expected


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        pytest.param("firefox-132.0.2-1", ("firefox", "132.0.2-1"), id="firefox"),
        pytest.param("zathura-pdf-mupdf-0.4.4-7", ("zathura-pdf-mupdf", "0.4.4-7"), id="dashes-in-name"),
        pytest.param("chromium-131.0.6778.85-1", ("chromium", "131.0.6778.85-1"), id="chromium"),
        pytest.param("glibc-2.40+r16+gaa533d58ff-2", ("glibc", "2.40+r16+gaa533d58ff-2"), id="git-version"),
        pytest.param("filesystem-2024.04.07-1", ("filesystem", "2024.04.07-1"), id="date-version"),
        pytest.param("xpdf-1:4.05-1", ("xpdf", "1:4.05-1"), id="epoch"),
        pytest.param("firefox", None, id="no-version"),
        pytest.param("firefox-132.0.2", None, id="no-release"),
        pytest.param("-132.0.2-1", None, id="no-name"),
        pytest.param("firefox--1", None, id="empty-version"),
        pytest.param("firefox-132.0.2-", None, id="empty-release"),
        pytest.param("", None, id="empty"),
    ],
)
def test_entry_name_and_version(directory: str, expected: tuple[str, str] | None):
    assert entry_name_and_version(directory) == expected


def test_entry_name_and_version_of_every_real_entry():
    for entry in sorted(p for p in PACMAN_LOCAL.iterdir() if p.is_dir()):
        desc = parse_sections((entry / "desc").read_text(encoding="utf-8"))
        assert entry_name_and_version(entry.name) == (desc["NAME"][0], desc["VERSION"][0]), entry.name


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        pytest.param("/usr/lib/firefox/application.ini", True, id="absolute"),
        pytest.param("usr/lib/firefox/application.ini", True, id="as-stored"),
        pytest.param("/usr/bin/firefox", True, id="early-line"),
        pytest.param("/usr/share/applications/firefox.desktop", True, id="last-line"),
        pytest.param("/usr/lib/firefox/", True, id="directory-with-slash"),
        pytest.param("/usr/lib/firefox", False, id="directory-without-slash"),
        pytest.param("/usr/lib/firefox/application", False, id="prefix-of-a-listed-path"),
        pytest.param("/usr/lib/firefox/firefox-bi", False, id="prefix-of-firefox-bin"),
        pytest.param("/lib/firefox/application.ini", False, id="suffix-of-a-listed-path"),
        pytest.param("/usr/bin/chromium", False, id="not-listed"),
    ],
)
def test_files_contain_on_a_real_files_entry(path: str, listed: bool):
    files = (PACMAN_LOCAL / "firefox-132.0.2-1/files").read_text(encoding="utf-8")
    assert files_contain(files, path) is listed
    assert not cut_short(files)
    # Without the final newlines the last line may be cut: it names nothing.
    last = path == "/usr/share/applications/firefox.desktop"
    assert files_contain(files.rstrip("\n"), path) is (listed and not last)
    assert cut_short(files.rstrip("\n"))
    assert cut_short(files.rstrip("\n") + "\n")  # pacman ends the section with a blank line


# snap.yaml ------------------------------------------------------------------------------------------------


def test_top_level_scalars_of_a_real_snap_yaml():
    text = (UBUNTU / "snap/firefox/5273/meta/snap.yaml").read_text(encoding="utf-8")
    values = top_level_scalars(text)
    assert values["name"] == "firefox"
    assert values["version"] == "132.0.2-1"
    assert values["base"] == "core22"
    assert values["summary"] == "Mozilla Firefox web browser"
    assert values["description"].startswith("Firefox is a powerful")
    for nested_or_structured in ("apps", "architectures", "assumes", "command", "plugs", "GTK_USE_PORTAL", "HOME"):
        assert nested_or_structured not in values


def test_top_level_scalars_of_a_truncated_snap_yaml():
    text = (LINUX / "broken-snap-yaml/root/snap/firefox/5273/meta/snap.yaml").read_text(encoding="utf-8")
    values = top_level_scalars(text)
    assert values["name"] == "firefox"
    assert "version" not in values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("name: chromium\nversion: 131.0.6778.69\n", "131.0.6778.69", id="unquoted"),
        pytest.param("version: '132.0.2-1'\n", "132.0.2-1", id="single-quoted"),
        pytest.param('version: "132.0.2-1"\n', "132.0.2-1", id="double-quoted"),
        pytest.param("version: 132.0.2-1 # from upstream\n", "132.0.2-1", id="trailing-comment"),
        pytest.param("version: 1.0#not-a-comment\n", "1.0#not-a-comment", id="hash-without-space"),
        pytest.param('version: "1.0 #2"\n', "1.0 #2", id="hash-inside-quotes"),
        pytest.param("version:   2.6   \n", "2.6", id="extra-blanks"),
        pytest.param("# version: 0.1\nversion: 2.6\n", "2.6", id="commented-line"),
        pytest.param("---\nversion: 2.6\n", "2.6", id="document-start"),
        pytest.param("apps:\n  firefox:\n    version: nested\nversion: 2.6\n", "2.6", id="nested-key-ignored"),
        pytest.param("version: 2.6\nversion: 3.0\n", "2.6", id="first-wins"),
        pytest.param("  version: 2.6\n", None, id="only-indented"),
        pytest.param("version: |\n  2.6\n", None, id="block-scalar"),
        pytest.param("version: [2, 6]\n", None, id="flow-sequence"),
        pytest.param("version: {major: 2}\n", None, id="flow-mapping"),
        pytest.param("version: '2.6\n", None, id="unbalanced-quote"),
        pytest.param("version:\n", None, id="empty-value"),
        pytest.param("version: ''\n", None, id="empty-quoted"),
        pytest.param("", None, id="empty-text"),
    ],
)
def test_top_level_scalars_rules(text: str, expected: str | None):
    assert top_level_scalars(text).get("version") == expected


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("version: '132.0.2-1' # pinned", id="single-quoted"),
        pytest.param('version: "132.0.2-1"  # pinned', id="double-quoted"),
    ],
)
def test_top_level_scalars_quoted_value_with_comment(line: str):
    assert top_level_scalars(f"name: firefox\n{line}\n").get("version") == "132.0.2-1"


@HYPOTHESIS
@given(
    st.text()
    | st.lists(st.sampled_from(["version: '1", 'name: "x"', "  - a", "#", "---", "key:", "v: |", "a: 'b' #"])).map(
        "\n".join
    )
)
def test_top_level_scalars_never_raises(text: str):
    values = top_level_scalars(text)
    assert all(isinstance(v, str) and v for v in values.values())


# AppStream metainfo ---------------------------------------------------------------------------------------

_FLATPAK_APPS = {
    "evince-metainfo": (
        "var/lib/flatpak/app/org.gnome.Evince/current/active/files/share/metainfo/org.gnome.Evince.metainfo.xml",
        "46.3",
    ),
    "chromium-metainfo": (
        "home/carol/.local/share/flatpak/app/org.chromium.Chromium/current/active/files/share/metainfo/"
        "org.chromium.Chromium.metainfo.xml",
        "131.0.6778.85",
    ),
    "papers-metainfo-with-release-notes": (
        "home/carol/.local/share/flatpak/app/org.gnome.Papers/current/active/files/share/metainfo/"
        "org.gnome.Papers.metainfo.xml",
        "47.0",
    ),
    "firefox-legacy-appdata": (
        "home/carol/.local/share/flatpak/app/org.mozilla.firefox/current/active/files/share/appdata/"
        "org.mozilla.firefox.appdata.xml",
        "132.0.2",
    ),
}


@pytest.mark.parametrize("case", list(_FLATPAK_APPS), ids=str)
def test_newest_release_of_real_metainfo(case: str):
    path, version = _FLATPAK_APPS[case]
    text = Root(str(FLATPAK)).read_text("/" + path)  # through the fixture's "current" and "active" links
    assert text is not None
    assert newest_release(text) == version


_COMPONENT = """<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>org.gnome.Evince</id>
  <name>Document Viewer</name>
  {releases}
</component>
"""


@pytest.mark.parametrize(
    ("releases", "expected"),
    [
        pytest.param(
            '<releases><release version="46.3" date="2024-05-26"/>'
            '<release version="46.2" date="2024-05-18"/></releases>',
            "46.3",
            id="newest-first",
        ),
        pytest.param(
            '<releases>\n<release date="2024-06-01"/>\n<release version="46.3"/></releases>',
            "46.3",
            id="first-without-version-skipped",
        ),
        pytest.param(
            '<releases><release version=""/><release version="46.2"/></releases>',
            "46.2",
            id="first-with-empty-version-skipped",
        ),
        pytest.param("<releases/>", None, id="empty-releases"),
        pytest.param(
            '<releases type="external" href="https://example.org/org.gnome.Evince.releases.xml"/>',
            None,
            id="external-releases",
        ),
        pytest.param("", None, id="no-releases"),
        pytest.param(
            '<description><releases><release version="9"/></releases></description>',
            None,
            id="releases-not-a-child-of-component",
        ),
    ],
)
def test_newest_release_rules(releases: str, expected: str | None):
    assert newest_release(_COMPONENT.format(releases=releases)) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_COMPONENT.format(releases='<releases><release version="46.3"/>')[:-20], id="truncated"),
        pytest.param(
            _COMPONENT.format(releases="<releases>").replace("</component>", "</releases>"), id="mismatched-tag"
        ),
        pytest.param("", id="empty"),
        pytest.param("not xml at all", id="plain-text"),
        pytest.param("<component>&undefined;</component>", id="undefined-entity"),
        pytest.param("<component/><component/>", id="two-roots"),
    ],
)
def test_newest_release_of_broken_xml_raises(text: str):
    with pytest.raises(MetainfoError, match="not valid XML"):
        newest_release(text)


@HYPOTHESIS
@given(
    st.text()
    | st.lists(
        st.sampled_from(
            [
                "<component>",
                "</component>",
                "<releases>",
                "</releases>",
                '<release version="1"/>',
                "<release>",
                "&amp;",
                "&x;",
                "<!--",
                "-->",
                "<?xml version='1.0'?>",
            ]
        )
    ).map("".join)
)
def test_newest_release_never_raises_anything_but_its_error(text: str):
    try:
        result = newest_release(text)
    except MetainfoError:
        return
    assert result is None or isinstance(result, str)


# rpm: headers and the sqlite database ---------------------------------------------------------------------

# `rpm -qa --qf '%{NAME} %{EPOCH} %{VERSION} %{RELEASE}'` on the fixture (research/rpm-header-facts.md).
RPM_QA = [
    ("bash", None, "5.2.32", "1.fc41"),
    ("evince", None, "46.3", "3.fc41"),
    ("fedora-release-common", None, "41", "29"),
    ("fedora-release-identity-workstation", None, "41", "29"),
    ("firefox", None, "132.0.2", "1.fc41"),
    ("glibc", None, "2.40", "9.fc41"),
    ("google-chrome-stable", None, "131.0.6778.85", "1"),
    ("okular", None, "24.08.2", "1.fc41"),
    ("xpdf-libs", 1, "4.05", "5.fc41"),
]


@lru_cache(maxsize=1)
def _fixture_blobs() -> dict[str, bytes]:
    """The header blob of every package, read without writing anything beside the database."""
    uri = "file:" + urllib.parse.quote(str(RPMDB)) + "?mode=ro&immutable=1"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute("SELECT Name.key, Packages.blob FROM Name JOIN Packages USING (hnum)").fetchall()
    return {name: bytes(blob) for name, blob in rows}


@pytest.fixture(scope="module")
def fedora_db():
    database = RpmDatabase.open(Root(str(FEDORA)))
    assert database is not None
    yield database
    database._connection.close()


def test_rpm_database_is_found_in_the_fedora_tree(fedora_db: RpmDatabase):
    assert fedora_db.where == "/usr/lib/sysimage/rpm/rpmdb.sqlite"


@pytest.mark.parametrize(("name", "epoch", "version", "release"), RPM_QA, ids=[row[0] for row in RPM_QA])
def test_rpm_packages_match_rpm_qa(fedora_db: RpmDatabase, name: str, epoch: int | None, version: str, release: str):
    assert fedora_db.packages([name]) == {name: RpmPackage(name, epoch, version, release)}


def test_rpm_packages_of_several_names(fedora_db: RpmDatabase):
    found = fedora_db.packages(["firefox", "xpdf-libs", "xpdf", "chromium", "google-chrome-stable", "firefox-esr"])
    assert sorted(found) == ["firefox", "google-chrome-stable", "xpdf-libs"]
    assert found["xpdf-libs"].evr == "1:4.05-5.fc41"
    assert found["firefox"].evr == "132.0.2-1.fc41"
    assert found["google-chrome-stable"].evr == "131.0.6778.85-1"
    assert fedora_db.packages([]) == {}


def test_rpm_packages_agree_with_expected_json(fedora_db: RpmDatabase):
    expected = json.loads((FEDORA.parent / "expected.json").read_text(encoding="utf-8"))
    rpm_software = [item for item in expected["software"] if item["source"] == "rpm"]
    assert len(rpm_software) == 4
    found = fedora_db.packages(item["package"] for item in rpm_software)
    for item in rpm_software:
        assert found[item["package"]].version == item["version"], item["product"]


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        pytest.param("/usr/lib64/firefox/application.ini", "firefox", id="firefox-application-ini"),
        pytest.param("/usr/share/applications/org.mozilla.firefox.desktop", "firefox", id="firefox-desktop"),
        pytest.param("/usr/share/applications/org.gnome.Evince.desktop", "evince", id="evince-desktop"),
        pytest.param("/usr/share/applications/okularApplication_pdf.desktop", "okular", id="okular-pdf-desktop"),
        pytest.param("/usr/share/applications/google-chrome.desktop", "google-chrome-stable", id="chrome-desktop"),
        pytest.param("/usr/bin/google-chrome", "google-chrome-stable", id="ghost-file"),
        pytest.param("/usr/lib64/firefox", "firefox", id="owned-directory"),
        pytest.param("/opt/google/chrome", "google-chrome-stable", id="opt-directory"),
        pytest.param("/etc/os-release", "fedora-release-common", id="etc-os-release"),
        pytest.param("/usr/lib/os-release", "fedora-release-identity-workstation", id="usr-lib-os-release"),
        pytest.param("/usr/lib/firefox/application.ini", None, id="same-basename-other-directory"),
        pytest.param("/usr/lib64/firefox/application", None, id="prefix-of-basename"),
        pytest.param("/usr/share/applications/firefox.desktop", None, id="not-owned"),
    ],
)
def test_rpm_owner_of_real_files(fedora_db: RpmDatabase, path: str, owner: str | None):
    package = fedora_db.owner(path)
    assert (package.name if package else None) == owner
    if package is not None:
        assert package == fedora_db.packages([owner])[owner]


def test_rpm_owned_files_exist_in_the_fixture_tree(fedora_db: RpmDatabase):
    root = Root(str(FEDORA))
    for path in ("/usr/lib64/firefox/application.ini", "/usr/share/applications/org.gnome.Evince.desktop"):
        assert root.is_file(path)
        assert fedora_db.owner(path) is not None


def test_real_header_blobs_have_the_documented_layout():
    blobs = _fixture_blobs()
    assert sorted(blobs) == [row[0] for row in RPM_QA]
    for name, epoch, version, release in RPM_QA:
        blob = blobs[name]
        il, dl = struct.unpack_from(">ii", blob)
        assert len(blob) == 8 + 16 * il + dl, name
        assert struct.unpack_from(">i", blob, 8)[0] == 63, name  # the region tag comes first
        assert RpmHeader(blob).package() == RpmPackage(name, epoch, version, release)


def test_real_header_file_paths():
    header = RpmHeader(_fixture_blobs()["firefox"])
    paths = []
    index = 0
    while (path := header.file_path(index)) is not None:
        paths.append(path)
        index += 1
    assert len(paths) == len(header.string_array(TAG_BASENAMES)) == len(header.int32_array(TAG_DIRINDEXES))
    assert "/usr/lib64/firefox/application.ini" in paths
    assert "/usr/share/applications/org.mozilla.firefox.desktop" in paths
    assert all(path.startswith("/") for path in paths)
    assert all(directory.endswith("/") for directory in header.string_array(TAG_DIRNAMES))
    assert header.file_path(-1) is None
    assert header.file_path(len(paths)) is None


def _entry_position(blob: bytes, tag: int) -> int:
    count = struct.unpack_from(">i", blob)[0]
    for index in range(count):
        if struct.unpack_from(">i", blob, 8 + 16 * index)[0] == tag:
            return 8 + 16 * index
    raise AssertionError(f"no tag {tag}")


def _patch_entry(blob: bytes, tag: int, field: int, value: int) -> bytes:
    """The blob with one field (0 tag, 1 type, 2 offset, 3 count) of one index entry replaced."""
    position = _entry_position(blob, tag) + 4 * field
    return blob[:position] + struct.pack(">I", value & 0xFFFFFFFF) + blob[position + 4 :]


def _truncations() -> list:
    blob = _fixture_blobs()["firefox"]
    il = struct.unpack_from(">i", blob)[0]
    cuts = {"empty": 0, "4-bytes": 4, "7-bytes": 7, "8-bytes": 8, "first-entry": 24, "index-only": 8 + 16 * il,
            "half": len(blob) // 2, "last-byte-missing": len(blob) - 1}  # fmt: skip
    return [pytest.param(cut, id=name) for name, cut in cuts.items()]


@pytest.mark.parametrize("cut", _truncations())
def test_truncated_header_blob_raises_rpm_header_error(cut: int):
    blob = _fixture_blobs()["firefox"][:cut]
    with pytest.raises(RpmHeaderError):
        RpmHeader(blob).package()


def _damaged() -> list:
    def sizes(il: int, dl: int):
        return lambda blob: struct.pack(">ii", il, dl) + blob[8:]

    def real(blob: bytes) -> tuple[int, int]:
        return struct.unpack_from(">ii", blob)

    cases = {
        "no-entries": lambda b: sizes(0, real(b)[1])(b),
        "negative-entry-count": lambda b: sizes(-1, real(b)[1])(b),
        "huge-entry-count": lambda b: sizes(2_000_000, real(b)[1])(b),
        "negative-data-length": lambda b: sizes(real(b)[0], -1)(b),
        "data-length-too-long": lambda b: sizes(real(b)[0], real(b)[1] + 1)(b),
        "name-is-an-int32": lambda b: _patch_entry(b, TAG_NAME, 1, 4),
        "name-offset-past-data": lambda b: _patch_entry(b, TAG_NAME, 2, real(b)[1] + 100),
        "version-offset-negative": lambda b: _patch_entry(b, TAG_VERSION, 2, -8),
        "release-is-binary": lambda b: _patch_entry(b, TAG_RELEASE, 1, 7),
        "name-runs-past-data": lambda b: _patch_entry(b, TAG_NAME, 2, real(b)[1] - 1)[:-1] + b"x",
    }
    return [pytest.param(damage, id=name) for name, damage in cases.items()]


@pytest.mark.parametrize("damage", _damaged())
def test_damaged_header_blob_raises_rpm_header_error(damage):
    blob = damage(_fixture_blobs()["firefox"])
    with pytest.raises(RpmHeaderError):
        header = RpmHeader(blob)
        header.package()


@pytest.mark.parametrize(
    ("tag", "field", "value"),
    [
        pytest.param(TAG_BASENAMES, 3, 0x7FFFFFFF, id="basenames-count-huge"),
        pytest.param(TAG_DIRINDEXES, 3, 0x7FFFFFFF, id="dirindexes-count-huge"),
        pytest.param(TAG_DIRINDEXES, 1, 6, id="dirindexes-is-a-string"),
        pytest.param(TAG_DIRNAMES, 1, 4, id="dirnames-is-an-int32"),
        pytest.param(TAG_BASENAMES, 3, 0x80000000, id="basenames-count-negative"),
        pytest.param(TAG_DIRNAMES, 3, 0xFFFFFFFF, id="dirnames-count-negative"),
    ],
)
def test_damaged_file_list_raises_rpm_header_error(tag: int, field: int, value: int):
    header = RpmHeader(_patch_entry(_fixture_blobs()["firefox"], tag, field, value))
    with pytest.raises(RpmHeaderError):
        header.file_path(0)


@pytest.mark.parametrize(
    ("package", "tag", "call"),
    [
        pytest.param("xpdf-libs", TAG_EPOCH, "package", id="epoch-count-0xffffffff"),
        pytest.param("firefox", TAG_DIRINDEXES, "file_path", id="dirindexes-count-0x80000000"),
    ],
)
def test_negative_int32_count_raises_rpm_header_error(package: str, tag: int, call: str):
    """rpm stores counts as uint32; one of 2**31 or more reads as a negative int32 and must be refused."""
    value = 0xFFFFFFFF if tag == TAG_EPOCH else 0x80000000
    header = RpmHeader(_patch_entry(_fixture_blobs()[package], tag, 3, value))
    with pytest.raises(RpmHeaderError):
        if call == "package":
            header.package()
        else:
            header.file_path(0)


_TAGS = [TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES, 63, 100]


@st.composite
def _rpm_blobs(draw: st.DrawFn) -> bytes:
    data = draw(st.binary(max_size=48) | st.lists(st.sampled_from([b"\0", b"firefox\0", b"\0\0\0\1"])).map(b"".join))
    entries = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_TAGS),
                st.sampled_from([4, 6, 8, 9]) | st.integers(0, 9),
                st.integers(0, max(len(data) - 1, 0)) | st.integers(-20, len(data) + 4),
                # rpm's counts are uint32: one of 2**31 or more reads as a negative int32
                st.sampled_from([0, 1, 2, -1, -(2**31), 2**31 - 1]) | st.integers(-(2**31), 2**31 - 1),
            ),
            min_size=1,
            max_size=8,
        )
    )
    blob = struct.pack(">ii", len(entries), len(data))
    blob += b"".join(struct.pack(">iiii", *entry) for entry in entries) + data
    return blob + draw(st.binary(max_size=4))


def _exercise(blob: bytes) -> None:
    try:
        header = RpmHeader(blob)
    except RpmHeaderError:
        return
    with contextlib.suppress(RpmHeaderError):
        package = header.package()
        assert package.name
        assert package.version
    for index in (-1, 0, 1, 3):
        with contextlib.suppress(RpmHeaderError):
            path = header.file_path(index)
            assert path is None or isinstance(path, str)
    for tag in _TAGS:
        with contextlib.suppress(RpmHeaderError):
            assert header.string(tag) is None or isinstance(header.string(tag), str)
        with contextlib.suppress(RpmHeaderError):
            assert isinstance(header.string_array(tag), list)
        with contextlib.suppress(RpmHeaderError):
            assert all(isinstance(number, int) for number in header.int32_array(tag))


@HYPOTHESIS
@given(st.binary(max_size=200) | _rpm_blobs())
def test_rpm_header_never_raises_anything_but_its_error(blob: bytes):
    _exercise(blob)


def _copy_database(tmp_path: Path) -> tuple[Root, Path]:
    directory = tmp_path / "root/usr/lib/sysimage/rpm"
    directory.mkdir(parents=True)
    shutil.copyfile(RPMDB, directory / "rpmdb.sqlite")
    return Root(str(tmp_path / "root")), directory / "rpmdb.sqlite"


def _rewrite_blob(database: Path, name: str, change) -> None:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        hnum, blob = connection.execute(
            "SELECT Packages.hnum, Packages.blob FROM Name JOIN Packages USING (hnum) WHERE Name.key = ?", (name,)
        ).fetchone()
        connection.execute("UPDATE Packages SET blob = ? WHERE hnum = ?", (change(bytes(blob)), hnum))
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_rpm_database_with_a_truncated_header_raises_its_error(tmp_path: Path):
    root, database = _copy_database(tmp_path)
    _rewrite_blob(database, "firefox", lambda blob: blob[: len(blob) // 2])
    opened = RpmDatabase.open(root)
    assert opened is not None
    with pytest.raises(RpmDatabaseError, match="damaged package header"):
        opened.packages(["firefox"])
    with pytest.raises(RpmDatabaseError, match="damaged package header"):
        opened.owner("/usr/lib64/firefox/application.ini")
    assert opened.packages(["evince"])["evince"].version == "46.3"  # the other headers still read


def test_rpm_database_with_a_negative_epoch_count_raises_its_error(tmp_path: Path):
    root, database = _copy_database(tmp_path)
    _rewrite_blob(database, "xpdf-libs", lambda blob: _patch_entry(blob, TAG_EPOCH, 3, 0xFFFFFFFF))
    opened = RpmDatabase.open(root)
    assert opened is not None
    with pytest.raises(RpmDatabaseError):
        opened.packages(["xpdf-libs"])


def test_rpm_database_open_without_a_database(tmp_path: Path):
    assert RpmDatabase.open(Root(str(tmp_path))) is None


@pytest.mark.parametrize(
    ("path", "backend"),
    [
        pytest.param("var/lib/rpm/Packages", "BerkeleyDB", id="berkeley-db"),
        pytest.param("usr/lib/sysimage/rpm/Packages.db", "ndb", id="ndb"),
    ],
)
def test_rpm_database_other_backends_are_refused(tmp_path: Path, path: str, backend: str):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_bytes(b"\x00\x06\x15\x61" + b"\x00" * 60)
    with pytest.raises(RpmDatabaseError, match=backend):
        RpmDatabase.open(Root(str(tmp_path)))


def test_rpm_database_that_is_not_sqlite_raises_its_error(tmp_path: Path):
    (tmp_path / "var/lib/rpm").mkdir(parents=True)
    (tmp_path / "var/lib/rpm/rpmdb.sqlite").write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(RpmDatabaseError, match="cannot read rpm database"):
        RpmDatabase.open(Root(str(tmp_path)))


def test_rpm_database_through_an_absolute_var_lib_rpm_symlink(tmp_path: Path):
    (tmp_path / "rpmstore").mkdir()
    shutil.copyfile(RPMDB, tmp_path / "rpmstore/rpmdb.sqlite")
    (tmp_path / "var/lib").mkdir(parents=True)
    (tmp_path / "var/lib/rpm").symlink_to("/rpmstore")  # absolute: a path of the inspected machine
    root = Root(str(tmp_path))
    assert root.resolve("/var/lib/rpm/rpmdb.sqlite") == "/rpmstore/rpmdb.sqlite"
    opened = RpmDatabase.open(root)
    assert opened is not None
    assert opened.where == "/var/lib/rpm/rpmdb.sqlite"
    assert opened.owner("/usr/lib64/firefox/application.ini") == RpmPackage("firefox", None, "132.0.2", "1.fc41")


def test_rpm_database_open_writes_nothing_into_the_inspected_tree(tmp_path: Path):
    root, database = _copy_database(tmp_path)
    opened = RpmDatabase.open(root)
    assert opened is not None
    assert opened.packages(["firefox"])["firefox"].version == "132.0.2"
    opened._connection.close()
    assert sorted(os.listdir(database.parent)) == ["rpmdb.sqlite"]


# mimeapps: the default application ------------------------------------------------------------------------

PDF = "application/pdf"
EVINCE = "org.gnome.Evince.desktop"
OKULAR = "okularApplication_pdf.desktop"
PAPERS = "org.gnome.Papers.desktop"
ZATHURA = "org.pwmt.zathura.desktop"


def _files(desktops: tuple[str, ...] = ("gnome",)) -> list[str]:
    return mimeapps_files(
        "/home/alice/.config", ["/etc/xdg"], "/home/alice/.local/share", ["/usr/local/share", "/usr/share"], desktops
    )


def test_mimeapps_files_order():
    assert _files(("ubuntu", "gnome")) == [
        "/home/alice/.config/ubuntu-mimeapps.list",
        "/home/alice/.config/gnome-mimeapps.list",
        "/home/alice/.config/mimeapps.list",
        "/etc/xdg/ubuntu-mimeapps.list",
        "/etc/xdg/gnome-mimeapps.list",
        "/etc/xdg/mimeapps.list",
        "/home/alice/.local/share/applications/ubuntu-mimeapps.list",
        "/home/alice/.local/share/applications/gnome-mimeapps.list",
        "/home/alice/.local/share/applications/mimeapps.list",
        "/usr/local/share/applications/ubuntu-mimeapps.list",
        "/usr/local/share/applications/gnome-mimeapps.list",
        "/usr/local/share/applications/mimeapps.list",
        "/usr/share/applications/ubuntu-mimeapps.list",
        "/usr/share/applications/gnome-mimeapps.list",
        "/usr/share/applications/mimeapps.list",
    ]
    assert mimeapps_files(None, [], None, [], []) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Root:
    for path, text in files.items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Root(str(tmp_path))


def _default(root: Root, installed: set[str], desktops: tuple[str, ...] = ("gnome",)) -> tuple[str, str] | None:
    return default_application(root, PDF, _files(desktops), ["/usr/local/share", "/usr/share"], installed)


def _defaults(*ids: str) -> str:
    return f"[Default Applications]\n{PDF}={';'.join(ids)}\n"


def _added(*ids: str) -> str:
    return f"[Added Associations]\n{PDF}={';'.join(ids)};\n"


def _removed(*ids: str) -> str:
    return f"[Removed Associations]\n{PDF}={';'.join(ids)};\n"


MIMEAPPS_CASES = {
    "user-beats-system": (
        {"/home/alice/.config/mimeapps.list": _defaults(OKULAR), "/etc/xdg/mimeapps.list": _defaults(EVINCE)},
        {EVINCE, OKULAR},
        (OKULAR, "/home/alice/.config/mimeapps.list"),
    ),
    "user-beats-system-data-dir": (
        {
            "/home/alice/.local/share/applications/mimeapps.list": _defaults(OKULAR),
            "/usr/share/applications/mimeapps.list": _defaults(EVINCE),
        },
        {EVINCE, OKULAR},
        (OKULAR, "/home/alice/.local/share/applications/mimeapps.list"),
    ),
    "desktop-specific-beats-plain-in-same-folder": (
        {"/etc/xdg/gnome-mimeapps.list": _defaults(EVINCE), "/etc/xdg/mimeapps.list": _defaults(OKULAR)},
        {EVINCE, OKULAR},
        (EVINCE, "/etc/xdg/gnome-mimeapps.list"),
    ),
    "plain-user-file-beats-desktop-specific-system-file": (
        {"/home/alice/.config/mimeapps.list": _defaults(OKULAR), "/etc/xdg/gnome-mimeapps.list": _defaults(EVINCE)},
        {EVINCE, OKULAR},
        (OKULAR, "/home/alice/.config/mimeapps.list"),
    ),
    "other-desktop-file-ignored": (
        {"/home/alice/.config/kde-mimeapps.list": _defaults(OKULAR), "/etc/xdg/mimeapps.list": _defaults(EVINCE)},
        {EVINCE, OKULAR},
        (EVINCE, "/etc/xdg/mimeapps.list"),
    ),
    "uninstalled-default-skipped-in-same-list": (
        {"/home/alice/.config/mimeapps.list": _defaults(PAPERS, EVINCE)},
        {EVINCE, OKULAR},
        (EVINCE, "/home/alice/.config/mimeapps.list"),
    ),
    "uninstalled-default-falls-to-lower-file": (
        {
            "/home/alice/.config/mimeapps.list": _defaults(PAPERS),
            "/usr/share/applications/mimeapps.list": _defaults(OKULAR),
        },
        {EVINCE, OKULAR},
        (OKULAR, "/usr/share/applications/mimeapps.list"),
    ),
    "installed-default-in-lower-file-beats-added-in-higher": (
        {"/home/alice/.config/mimeapps.list": _added(OKULAR), "/etc/xdg/mimeapps.list": _defaults(EVINCE)},
        {EVINCE, OKULAR},
        (EVINCE, "/etc/xdg/mimeapps.list"),
    ),
    "added-used-when-no-default": (
        {"/home/alice/.config/mimeapps.list": _added(OKULAR, EVINCE)},
        {EVINCE, OKULAR},
        (OKULAR, "/home/alice/.config/mimeapps.list"),
    ),
    "added-used-when-default-not-installed": (
        {"/home/alice/.config/mimeapps.list": _defaults(PAPERS) + _added(PAPERS, EVINCE)},
        {EVINCE, OKULAR},
        (EVINCE, "/home/alice/.config/mimeapps.list"),
    ),
    "removed-in-higher-file-hides-lower-added": (
        {
            "/home/alice/.config/mimeapps.list": _removed(OKULAR),
            "/usr/share/applications/mimeapps.list": _added(OKULAR, EVINCE),
        },
        {EVINCE, OKULAR},
        (EVINCE, "/usr/share/applications/mimeapps.list"),
    ),
    "removed-in-lower-file-does-not-hide-higher-added": (
        {
            "/home/alice/.config/mimeapps.list": _added(OKULAR),
            "/usr/share/applications/mimeapps.list": _removed(OKULAR),
        },
        {EVINCE, OKULAR},
        (OKULAR, "/home/alice/.config/mimeapps.list"),
    ),
    "removed-hides-mimeinfo-cache": (
        {
            "/home/alice/.config/mimeapps.list": _removed(OKULAR),
            "/usr/share/applications/mimeinfo.cache": f"[MIME Cache]\n{PDF}={OKULAR};{EVINCE};\n",
        },
        {EVINCE, OKULAR},
        (EVINCE, "/usr/share/applications/mimeinfo.cache"),
    ),
    "defaults-list-before-mimeinfo-cache": (
        {
            "/usr/share/applications/defaults.list": _defaults(EVINCE),
            "/usr/local/share/applications/mimeinfo.cache": f"[MIME Cache]\n{PDF}={OKULAR};\n",
        },
        {EVINCE, OKULAR},
        (EVINCE, "/usr/share/applications/defaults.list"),
    ),
    "mimeinfo-cache-as-last-resort": (
        {"/usr/share/applications/mimeinfo.cache": f"[MIME Cache]\n{PDF}={ZATHURA};{OKULAR};{EVINCE};\n"},
        {EVINCE, OKULAR},
        (OKULAR, "/usr/share/applications/mimeinfo.cache"),
    ),
    "mimeinfo-cache-in-data-dir-order": (
        {
            "/usr/local/share/applications/mimeinfo.cache": f"[MIME Cache]\n{PDF}={EVINCE};\n",
            "/usr/share/applications/mimeinfo.cache": f"[MIME Cache]\n{PDF}={OKULAR};\n",
        },
        {EVINCE, OKULAR},
        (EVINCE, "/usr/local/share/applications/mimeinfo.cache"),
    ),
    "mimeapps-beats-defaults-list": (
        {"/usr/share/applications/defaults.list": _defaults(EVINCE), "/etc/xdg/mimeapps.list": _added(OKULAR)},
        {EVINCE, OKULAR},
        (OKULAR, "/etc/xdg/mimeapps.list"),
    ),
    "other-mime-type-ignored": (
        {
            "/home/alice/.config/mimeapps.list": "[Default Applications]\napplication/pdf+xml=okular.desktop\n"
            f"application/x-pdf=okular.desktop\n{PDF}={EVINCE}\n",
        },
        {EVINCE, "okular.desktop"},
        (EVINCE, "/home/alice/.config/mimeapps.list"),
    ),
    "nothing-installed": (
        {"/home/alice/.config/mimeapps.list": _defaults(EVINCE) + _added(OKULAR)},
        set(),
        None,
    ),
    "no-files": ({}, {EVINCE, OKULAR}, None),
}


@pytest.mark.parametrize("case", list(MIMEAPPS_CASES), ids=str)
def test_default_application_resolution(tmp_path: Path, case: str):
    files, installed, expected = MIMEAPPS_CASES[case]
    root = _tree(tmp_path, files)
    assert _default(root, installed) == expected
    assert root.problems == []


def test_default_application_in_a_repeated_group(tmp_path: Path):
    text = "[Default Applications]\ntext/html=firefox.desktop\n\n[Added Associations]\n\n" + _defaults(OKULAR)
    root = _tree(tmp_path, {"/home/alice/.config/mimeapps.list": text, "/etc/xdg/mimeapps.list": _defaults(EVINCE)})
    assert _default(root, {EVINCE, OKULAR}) == (OKULAR, "/home/alice/.config/mimeapps.list")


def test_default_application_on_the_fedora_machine():
    root = Root(str(FEDORA))
    installed = set(root.listdir("/usr/share/applications"))
    files = mimeapps_files("/home/bob/.config", ["/etc/xdg"], "/home/bob/.local/share", ["/usr/share"], ["gnome"])
    assert default_application(root, PDF, files, ["/usr/share"], installed) == (
        EVINCE,
        "/home/bob/.config/mimeapps.list",
    )


def test_default_application_from_ubuntu_defaults_list_through_a_relative_link():
    # /usr/share/applications/defaults.list -> ../../../etc/gnome/defaults.list, as Ubuntu ships it.
    root = Root(str(UBUNTU))
    assert default_application(root, PDF, [], ["/usr/share"], {EVINCE}) == (
        EVINCE,
        "/usr/share/applications/defaults.list",
    )


# fsroot.Root ----------------------------------------------------------------------------------------------


def _write(base: Path, path: str, data: str | bytes) -> Path:
    target = base / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        target.write_text(data, encoding="utf-8")
    else:
        target.write_bytes(data)
    return target


def test_root_reads_below_its_base(tmp_path: Path):
    _write(tmp_path, "/etc/os-release", OS_RELEASE["debian-12"])
    root = Root(str(tmp_path))
    assert root.read_text("/etc/os-release") == OS_RELEASE["debian-12"]
    assert root.read_bytes("/etc/os-release") == OS_RELEASE["debian-12"].encode()
    assert root.host_path("/etc/os-release") == str(tmp_path / "etc/os-release")
    assert root.is_file("/etc/os-release")
    assert root.is_dir("/etc")
    assert root.problems == []


def test_root_follows_relative_symlinks_like_the_fixtures(tmp_path: Path):
    _write(tmp_path, "/usr/lib/os-release", OS_RELEASE["fedora-41"])
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").symlink_to("../usr/lib/os-release")
    root = Root(str(tmp_path))
    assert root.resolve("/etc/os-release") == "/usr/lib/os-release"
    assert root.read_text("/etc/os-release") == OS_RELEASE["fedora-41"]


def test_absolute_symlink_resolves_inside_the_root(tmp_path: Path):
    decoy = _write(tmp_path, "host/decoy.txt", "the host's file\n")  # a file of the machine running the check
    base = tmp_path / "root"
    _write(base, str(decoy), "the inspected machine's file\n")
    (base / "etc").mkdir()
    (base / "etc/link").symlink_to(decoy)  # absolute target: a path of the inspected machine
    root = Root(str(base))
    assert root.resolve("/etc/link") == str(decoy)
    assert root.read_text("/etc/link") == "the inspected machine's file\n"
    (base / str(decoy).lstrip("/")).unlink()
    assert root.read_text("/etc/link") is None  # missing in the machine: never the host's file
    assert root.problems == []


def test_absolute_symlink_in_a_directory_component(tmp_path: Path):
    _write(tmp_path, "/usr/lib/sysimage/rpm/marker", "inside\n")
    (tmp_path / "var/lib").mkdir(parents=True)
    (tmp_path / "var/lib/rpm").symlink_to("/usr/lib/sysimage/rpm")
    root = Root(str(tmp_path))
    assert root.resolve("/var/lib/rpm/marker") == "/usr/lib/sysimage/rpm/marker"
    assert root.read_text("/var/lib/rpm/marker") == "inside\n"


@pytest.mark.parametrize(
    "link_target",
    [
        pytest.param("relative-climb", id="relative-link-climbing-above-root"),
        pytest.param("absolute-climb", id="absolute-link-with-dot-dot"),
    ],
)
def test_dot_dot_cannot_climb_above_the_root(tmp_path: Path, link_target: str):
    decoy = _write(tmp_path, "host/decoy.txt", "the host's file\n")
    base = tmp_path / "root"
    (base / "etc").mkdir(parents=True)
    if link_target == "relative-climb":
        (base / "etc/link").symlink_to("../" * 30 + str(decoy).lstrip("/"))
    else:
        (base / "etc/link").symlink_to("/../../.." + str(decoy))
    root = Root(str(base))
    assert root.resolve("/etc/link") == str(decoy)
    assert root.read_text("/etc/link") is None
    assert root.read_text("/../../../../.." + str(decoy)) is None
    assert root.resolve("/..") == "/"
    assert root.resolve("/../etc/./..") == "/"
    _write(base, str(decoy), "inside\n")
    assert root.read_text("/etc/link") == "inside\n"


@pytest.mark.parametrize(
    "links",
    [
        pytest.param({"etc/a": "b", "etc/b": "a"}, id="relative-pair"),
        pytest.param({"etc/a": "/etc/b", "etc/b": "/etc/a"}, id="absolute-pair"),
        pytest.param({"etc/a": "a"}, id="self"),
        pytest.param({"etc/a": "../etc/a/x"}, id="growing"),
    ],
)
def test_symlink_loop_terminates(tmp_path: Path, links: dict[str, str]):
    (tmp_path / "etc").mkdir()
    for link, target in links.items():
        (tmp_path / link).symlink_to(target)
    root = Root(str(tmp_path))
    assert root.read_text("/etc/a") is None
    assert root.problems
    assert all(problem.startswith("/etc/a") for problem in root.problems)
    assert root.read_bytes("/etc/a/deeper") is None
    assert not root.is_file("/etc/a")
    assert root.listdir("/etc/a") == []


def test_absolute_self_loop_never_reads_the_hosts_file(tmp_path: Path):
    decoy = _write(tmp_path, "host/decoy.txt", "the host's file\n")
    base = tmp_path / "root"
    link = base / str(decoy).lstrip("/")
    link.parent.mkdir(parents=True)
    link.symlink_to(decoy)  # the machine's /…/decoy.txt points at itself
    assert Root(str(base)).read_text(str(decoy)) is None


def test_missing_file_is_none_without_a_problem(tmp_path: Path):
    _write(tmp_path, "/etc/hostname", "debian\n")
    root = Root(str(tmp_path))
    assert root.read_text("/etc/os-release") is None
    assert root.read_bytes("/no/such/dir/file") is None
    assert root.read_text("/etc/hostname/inside-a-file") is None  # NotADirectoryError
    assert root.listdir("/no/such/dir") == []
    assert root.problems == []


def test_directory_is_none_with_a_problem(tmp_path: Path):
    (tmp_path / "etc/os-release").mkdir(parents=True)
    root = Root(str(tmp_path))
    assert root.read_text("/etc/os-release") is None
    assert len(root.problems) == 1
    assert root.problems[0].startswith("/etc/os-release:")


def test_unreadable_file_is_none_with_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = _write(tmp_path, "/var/lib/dpkg/status", DEBIAN_STATUS)
    if os.geteuid() == 0:  # root reads anything: simulate what a 0600 file of another user does
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if os.fspath(path) == str(target):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(fsroot.os, "open", refusing_open)
    else:
        target.chmod(0)
    root = Root(str(tmp_path))
    assert root.read_bytes("/var/lib/dpkg/status") is None
    assert root.problems == ["/var/lib/dpkg/status: cannot read: Permission denied"]


def test_file_larger_than_the_limit_is_none_with_a_problem(tmp_path: Path):
    _write(tmp_path, "/var/lib/dpkg/status", DEBIAN_STATUS)
    root = Root(str(tmp_path))
    assert root.read_bytes("/var/lib/dpkg/status", limit=len(DEBIAN_STATUS)) == DEBIAN_STATUS  # at the limit
    assert root.problems == []
    assert root.read_bytes("/var/lib/dpkg/status", limit=len(DEBIAN_STATUS) - 1) is None
    assert root.read_text("/var/lib/dpkg/status", limit=1024) is None
    assert len(root.problems) == 2
    assert all(p.startswith("/var/lib/dpkg/status:") and "larger than" in p for p in root.problems)


def test_the_running_machine_resolves_paths_as_realpath_does(tmp_path: Path):
    # Root("/") keeps each folder's resolution for the run; the answers are realpath's all the same.
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "opt" / "app").mkdir(parents=True)
    (tmp_path / "opt" / "app" / "app").write_text("")
    (tmp_path / "bin").symlink_to("usr/bin")  # merged /usr
    (tmp_path / "usr" / "bin" / "app").symlink_to("../../opt/app/app")
    (tmp_path / "usr" / "bin" / "loop").symlink_to("loop")
    root = Root("/")
    for relative in ("bin/app", "usr/bin/app", "bin/missing", "bin/../opt/app/app", "bin/", "bin/.", "bin/loop"):
        for _ in range(2):  # the second time from what the first kept
            path = f"{tmp_path}/{relative}"
            assert root.resolve(path) == os.path.realpath(path), relative


def test_a_file_that_changes_size_while_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Read straight from the descriptor, from the size it had when opened: a file that grew past the limit
    in between is refused, one that grew within it or shrank is read whole."""
    target = _write(tmp_path, "/etc/os-release", b"ID=debian\n")
    real_fstat = os.fstat

    def as_when_opened(size: int):
        def fstat(descriptor: int):
            found = real_fstat(descriptor)
            fields = list(found)
            fields[stat.ST_SIZE] = size
            return os.stat_result(fields)

        return fstat

    root = Root(str(tmp_path))
    monkeypatch.setattr(fsroot.os, "fstat", as_when_opened(4))  # it grew after the open, within the limit
    assert root.read_bytes("/etc/os-release", limit=64) == b"ID=debian\n"
    target.write_bytes(b"ID=debian\n" * 1000)  # it grew past the limit
    assert root.read_bytes("/etc/os-release", limit=64) is None
    assert len(root.problems) == 1 and root.problems[0].startswith("/etc/os-release: larger than")
    monkeypatch.setattr(fsroot.os, "fstat", as_when_opened(64))  # it shrank
    target.write_bytes(b"ID=arch\n")
    assert root.read_bytes("/etc/os-release", limit=64) == b"ID=arch\n"


def test_a_read_error_is_none_with_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _write(tmp_path, "/etc/os-release", b"ID=debian\n")

    def failing_read(descriptor: int, size: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(fsroot.os, "read", failing_read)
    root = Root(str(tmp_path))
    assert root.read_text("/etc/os-release") is None
    assert root.problems == [f"/etc/os-release: cannot read: {os.strerror(errno.EIO)}"]


@pytest.mark.skipif(not os.path.exists("/proc/version"), reason="a kernel file of this Linux machine")
def test_a_kernel_file_whose_size_says_nothing_is_read_whole():
    # /proc files report a size of 0 and hold text all the same.
    assert os.stat("/proc/version").st_size == 0
    with open("/proc/version", "rb") as stream:
        expected = stream.read()
    assert Root("/").read_bytes("/proc/version") == expected


def test_fifo_is_not_read_and_does_not_hang(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "etc/os-release")
    root = Root(str(tmp_path))
    assert root.read_text("/etc/os-release") is None
    assert len(root.problems) == 1
    assert root.problems[0].startswith("/etc/os-release:")


def test_undecodable_bytes_are_replaced(tmp_path: Path):
    _write(tmp_path, "/etc/os-release", b'NAME="Debian \xff GNU/Linux"\nID=debian\n')
    text = Root(str(tmp_path)).read_text("/etc/os-release")
    assert text == 'NAME="Debian \ufffd GNU/Linux"\nID=debian\n'
    assert parse_os_release(text)["NAME"] == "Debian \ufffd GNU/Linux"
