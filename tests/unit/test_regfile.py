"""The registry export (.reg) parser, over exports built the way regedit writes them: UTF-16LE with a BOM,
CRLF line ends, hex values wrapped at 80 columns; with the content of a real Windows 11 24H2 machine."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.inspect.formats.regfile import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
    RegFileError,
    parse_reg,
)

HYPOTHESIS = settings(max_examples=300, deadline=None)
HEADER = "Windows Registry Editor Version 5.00"

# Exports written as regedit writes them --------------------------------------------------------------------


def _name(name: str) -> str:
    """A value name as regedit writes it before the data: ``"name"=``, or ``@=`` for the default value."""
    if not name:
        return "@="
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"='


def hex_value(name: str, kind: int, raw: bytes) -> str:
    """A hex value exactly as regedit writes it (regproc.c export_hex_data): after each byte but the last,
    a comma; once the line would reach 77 columns, a backslash, a line end and two spaces."""
    line = _name(name) + ("hex:" if kind == REG_BINARY else f"hex({kind:x}):")
    width = len(line)
    out = [line]
    for index, byte in enumerate(raw):
        out.append(f"{byte:02x}")
        if index == len(raw) - 1:
            break
        out.append(",")
        width += 3
        if width >= 77:
            out.append("\\\n  ")
            width = 2
    return "".join(out)


def sz(name: str, text: str) -> str:
    return _name(name) + '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dword(name: str, number: int) -> str:
    return _name(name) + f"dword:{number:08x}"


def qword(name: str, number: int) -> str:
    return hex_value(name, REG_QWORD, number.to_bytes(8, "little"))


def binary(name: str, raw: bytes) -> str:
    return hex_value(name, REG_BINARY, raw)


def expand_sz(name: str, text: str, encoding: str = "utf-16-le") -> str:
    return hex_value(name, REG_EXPAND_SZ, (text + "\0").encode(encoding))


def multi_sz(name: str, strings: list[str], encoding: str = "utf-16-le") -> str:
    return hex_value(name, REG_MULTI_SZ, "".join(s + "\0" for s in strings).encode(encoding) + "\0".encode(encoding))


def export_text(*keys: tuple[str, list[str]], header: str = HEADER) -> str:
    """The text regedit writes: the header, then per key a blank line, ``[path]`` and its values; a blank
    line at the end."""
    return (
        header + "\n" + "".join(f"\n[{path}]\n" + "".join(line + "\n" for line in lines) for path, lines in keys) + "\n"
    )


def utf16(text: str) -> bytes:
    return ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-16-le")


def export(*keys: tuple[str, list[str]]) -> bytes:
    return utf16(export_text(*keys))


# A Windows 11 24H2 Pro machine.

CURRENT_VERSION = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
DIGITAL_PRODUCT_ID = bytes.fromhex("a400000003000000") + b"00330-80000-00000-AA442" + bytes(range(133))
INSTALL_TIME = 133_734_633_241_234_567  # a FILETIME (100 ns ticks since 1601): 2024-10-15 10:55:24, as InstallDate
SVCHOST_LOCAL_SERVICE = ["nsi", "WdiServiceHost", "w32time", "EventSystem", "SstpSvc", "WinHttpAutoProxySvc"]
CURRENT_VERSION_KEY = (
    CURRENT_VERSION,
    [
        sz("SystemRoot", r"C:\WINDOWS"),
        dword("BaseBuildRevisionNumber", 1),
        sz("BuildBranch", "ge_release"),
        sz("BuildGUID", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
        sz("BuildLab", "26100.ge_release.240331-1435"),
        sz("BuildLabEx", "26100.1.amd64fre.ge_release.240331-1435"),
        sz("CompositionEditionID", "Enterprise"),
        sz("CurrentBuild", "26100"),
        sz("CurrentBuildNumber", "26100"),
        dword("CurrentMajorVersionNumber", 0xA),
        dword("CurrentMinorVersionNumber", 0),
        sz("CurrentType", "Multiprocessor Free"),
        sz("CurrentVersion", "6.3"),
        binary("DigitalProductId", DIGITAL_PRODUCT_ID),
        sz("DisplayVersion", "24H2"),
        sz("EditionID", "Professional"),
        sz("EditionSubManufacturer", ""),
        sz("EditionSubstring", ""),
        sz("EditionSubVersion", ""),
        sz("InstallationType", "Client"),
        dword("InstallDate", 0x670E4A1C),
        qword("InstallTime", INSTALL_TIME),
        sz("LCUVer", "10.0.26100.4324"),
        expand_sz("PathName", r"C:\Windows"),
        sz("ProductId", "00330-80000-00000-AA442"),
        sz("ProductName", "Windows 10 Pro"),
        sz("RegisteredOrganization", ""),
        sz("RegisteredOwner", "user@example.com"),
        sz("ReleaseId", "2009"),
        sz("SoftwareType", "System"),
        dword("UBR", 0x10E4),
    ],
)
SVCHOST_KEY = (
    CURRENT_VERSION + r"\Svchost",
    [
        multi_sz("LocalService", SVCHOST_LOCAL_SERVICE),
        multi_sz("netsvcs", ["CertPropSvc", "SCPolicySvc", "lanmanserver", "gpsvc", "IKEEXT", "AppMgmt"]),
    ],
)

CHROME_SETUP = r"C:\Program Files\Google\Chrome\Application\131.0.6778.86\Installer\setup.exe"
CHROME_UNINSTALL_STRING = f'"{CHROME_SETUP}" --uninstall --channel=stable --system-level --verbose-logging'
UNINSTALL = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
CHROME_KEY = (
    UNINSTALL + r"\Google Chrome",
    [
        sz("DisplayName", "Google Chrome"),
        sz("UninstallString", CHROME_UNINSTALL_STRING),
        sz("ModifyPath", f'"{CHROME_SETUP}" --channel=stable --system-level --verbose-logging'),
        sz("InstallLocation", r"C:\Program Files\Google\Chrome\Application"),
        sz("DisplayIcon", r"C:\Program Files\Google\Chrome\Application\chrome.exe,0"),
        dword("NoModify", 1),
        dword("NoRepair", 1),
        sz("Publisher", "Google LLC"),
        sz("Version", "131.0.6778.86"),
        sz("DisplayVersion", "131.0.6778.86"),
        sz("InstallDate", "20241204"),
        dword("VersionMajor", 6778),
        dword("VersionMinor", 86),
    ],
)
MACHINE_TEXT = export_text(CURRENT_VERSION_KEY, SVCHOST_KEY, (UNINSTALL, []), CHROME_KEY)
MACHINE = utf16(MACHINE_TEXT)


def error_of(data: bytes) -> str:
    with pytest.raises(RegFileError) as caught:
        parse_reg(data)
    return str(caught.value)


# The helper wraps as regedit does ----------------------------------------------------------------------------


def test_the_helper_wraps_hex_like_regedit():
    # As in a real regedit export: 18 bytes after the 23 columns of `"DigitalProductId"=hex:`, then 25 bytes
    # on each continuation line (two spaces, 25 bytes with their commas, the backslash: 78 columns).
    lines = binary("DigitalProductId", DIGITAL_PRODUCT_ID).split("\n")
    assert lines[0] == '"DigitalProductId"=hex:a4,00,00,00,03,00,00,00,30,30,33,33,30,2d,38,30,30,30,\\'
    assert lines[1] == "  30,2d,30,30,30,30,30,2d,41,41,34,34,32,00,01,02,03,04,05,06,07,08,09,0a,0b,\\"
    assert all(line.startswith("  ") and line.endswith(",\\") and len(line) == 78 for line in lines[1:-1])
    assert max(len(line) for line in MACHINE_TEXT.split("\n") if "hex" in line or line.startswith("  ")) <= 80
    assert len(lines) == 1 + -(-(len(DIGITAL_PRODUCT_ID) - 18) // 25)


# What a real export holds -----------------------------------------------------------------------------------


def test_current_version_of_windows_11_24h2():
    values = parse_reg(MACHINE)[CURRENT_VERSION]
    assert values["ProductName"] == (REG_SZ, "Windows 10 Pro")  # the known trap: Windows 11 says "Windows 10"
    assert values["DisplayVersion"] == (REG_SZ, "24H2")
    assert values["CurrentBuild"] == (REG_SZ, "26100")
    assert values["UBR"] == (REG_DWORD, 4324)
    assert values["EditionID"] == (REG_SZ, "Professional")
    assert values["InstallationType"] == (REG_SZ, "Client")
    assert values["CurrentMajorVersionNumber"] == (REG_DWORD, 10)
    assert values["CurrentMinorVersionNumber"] == (REG_DWORD, 0)
    assert values["ReleaseId"] == (REG_SZ, "2009")
    assert values["SystemRoot"] == (REG_SZ, "C:\\WINDOWS")
    assert values["EditionSubstring"] == (REG_SZ, "")
    assert values["PathName"] == (REG_EXPAND_SZ, "C:\\Windows")
    assert values["InstallTime"] == (REG_QWORD, INSTALL_TIME)
    assert values["DigitalProductId"] == (REG_BINARY, DIGITAL_PRODUCT_ID)
    assert len(values) == len(CURRENT_VERSION_KEY[1])
    svchost = parse_reg(MACHINE)[CURRENT_VERSION + "\\Svchost"]
    assert svchost["LocalService"] == (REG_MULTI_SZ, SVCHOST_LOCAL_SERVICE)


def test_chrome_uninstall_entry():
    keys = parse_reg(MACHINE)
    assert list(keys) == [CURRENT_VERSION, CURRENT_VERSION + "\\Svchost", UNINSTALL, CHROME_KEY[0]]
    assert keys[UNINSTALL] == {}  # a key with no values of its own is still a key
    chrome = keys[UNINSTALL + "\\Google Chrome"]
    assert chrome["DisplayName"] == (REG_SZ, "Google Chrome")
    assert chrome["DisplayVersion"] == (REG_SZ, "131.0.6778.86")
    assert chrome["UninstallString"] == (REG_SZ, CHROME_UNINSTALL_STRING)  # escaped quotes and backslashes
    assert chrome["InstallLocation"] == (REG_SZ, r"C:\Program Files\Google\Chrome\Application")
    assert chrome["VersionMajor"] == (REG_DWORD, 6778)
    assert chrome["NoModify"] == (REG_DWORD, 1)


# Encodings, line ends, headers -------------------------------------------------------------------------------

FIREFOX = r"HKEY_LOCAL_MACHINE\SOFTWARE\Mozilla\Mozilla Firefox"
FIREFOX_LINES = [sz("CurrentVersion", "128.5.1 ESR (x64 fr)"), sz("Description", "Navigateur Web créé par Mozilla")]
FIREFOX_TEXT = export_text((FIREFOX, FIREFOX_LINES))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(utf16(FIREFOX_TEXT), id="utf16le-bom-crlf"),
        pytest.param(("\ufeff" + FIREFOX_TEXT).encode("utf-16-le"), id="utf16le-bom-lf"),
        pytest.param(b"\xef\xbb\xbf" + FIREFOX_TEXT.replace("\n", "\r\n").encode(), id="utf8-bom-crlf"),
        pytest.param(FIREFOX_TEXT.encode(), id="utf8-no-bom-lf"),
        pytest.param(FIREFOX_TEXT.replace("\n", "\r\n").encode(), id="utf8-no-bom-crlf"),
    ],
)
def test_encodings_and_line_ends_of_version_5(data: bytes):
    assert parse_reg(data) == {
        FIREFOX: {
            "CurrentVersion": (REG_SZ, "128.5.1 ESR (x64 fr)"),
            "Description": (REG_SZ, "Navigateur Web créé par Mozilla"),
        }
    }


def test_regedit4_is_ansi_with_single_byte_hex_strings():
    text = export_text(
        (
            FIREFOX + r"\128.5.1 ESR (x64 fr)\Main",
            [
                sz("Description", "Navigateur Web créé par Mozilla"),
                expand_sz("Install Directory", r"%ProgramFiles%\Mozilla Firefox", encoding="cp1252"),
                multi_sz("Langues", ["français", "English"], encoding="cp1252"),
            ],
        ),
        header="REGEDIT4",
    )
    values = parse_reg(text.replace("\n", "\r\n").encode("cp1252"))[FIREFOX + r"\128.5.1 ESR (x64 fr)\Main"]
    assert values["Description"] == (REG_SZ, "Navigateur Web créé par Mozilla")
    assert values["Install Directory"] == (REG_EXPAND_SZ, r"%ProgramFiles%\Mozilla Firefox")
    assert values["Langues"] == (REG_MULTI_SZ, ["français", "English"])


def test_blank_lines_and_comments_are_skipped():
    text = (
        f"{HEADER}\n\n\n; exported by the support team\n[{FIREFOX}]\n   ; indented comment\n\n"
        f'{FIREFOX_LINES[0]}\n;"CurrentVersion"="1.0"\n\n\n'
    )
    assert parse_reg(utf16(text)) == {FIREFOX: {"CurrentVersion": (REG_SZ, "128.5.1 ESR (x64 fr)")}}


def test_trailing_comments_after_values_as_regedit_import_allows():
    lines = ['"a"="x" ; why', '"b"=dword:00000002;why', '"c"=hex:01,02,\\ ;why', "  03 ; why", '"d"=- ; gone']
    assert parse_reg(export((FIREFOX, ['"d"="kept until deleted"', *lines])))[FIREFOX] == {
        "a": (REG_SZ, "x"),
        "b": (REG_DWORD, 2),
        "c": (REG_BINARY, b"\x01\x02\x03"),
    }


# Keys ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "full"),
    [
        pytest.param(r"HKLM\SOFTWARE\Mozilla", r"HKEY_LOCAL_MACHINE\SOFTWARE\Mozilla", id="hklm"),
        pytest.param(
            r"HKCU\Software\Google\Chrome\BLBeacon", r"HKEY_CURRENT_USER\Software\Google\Chrome\BLBeacon", id="hkcu"
        ),
        pytest.param(r"HKU\S-1-5-21-1-2-3-1001\Software", r"HKEY_USERS\S-1-5-21-1-2-3-1001\Software", id="hku"),
        pytest.param(r"HKCR\.pdf", r"HKEY_CLASSES_ROOT\.pdf", id="hkcr"),
        pytest.param(r"HKEY_CURRENT_CONFIG\System", r"HKEY_CURRENT_CONFIG\System", id="hkey-current-config"),
        pytest.param(r"HKCC\System", r"HKEY_CURRENT_CONFIG\System", id="hkcc"),
        pytest.param(r"hkey_local_machine\SOFTWARE", r"HKEY_LOCAL_MACHINE\SOFTWARE", id="lower-case-root"),
        pytest.param("HKEY_USERS", "HKEY_USERS", id="root-alone"),
    ],
)
def test_roots_and_their_abbreviations_are_spelt_out(written: str, full: str):
    assert parse_reg(export((written, [sz("x", "1")]))) == {full: {"x": (REG_SZ, "1")}}


def test_a_key_name_may_hold_a_closing_bracket():
    path = r"HKEY_CURRENT_USER\Software\Vendor [beta]\Settings]"
    assert parse_reg(export((path, [dword("on", 1)]))) == {path: {"on": (REG_DWORD, 1)}}


def test_a_key_that_appears_twice_is_merged_case_insensitively():
    keys = parse_reg(
        export(
            (FIREFOX, [sz("CurrentVersion", "128.5.0 ESR"), sz("Keep", "1")]),
            (FIREFOX.upper(), [sz("currentversion", "128.5.1 ESR"), sz("New", "2")]),
        )
    )
    # The first spelling of the key and of the value name is kept; the later data wins, as on import.
    assert keys == {FIREFOX: {"CurrentVersion": (REG_SZ, "128.5.1 ESR"), "Keep": (REG_SZ, "1"), "New": (REG_SZ, "2")}}


def test_deleting_a_key_removes_it_and_its_subkeys_seen_so_far():
    edge = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\EdgeUpdate\Clients"
    stable = edge + r"\{56EB18F8-8008-4CBD-B6D2-8C97FE7E9062}"
    beta = edge + r"\{2CD8A007-E189-409D-A2C8-9AF4EF3C72AA}"
    # Siblings whose names start with the deleted one's, sorting before, between and after its subkeys.
    siblings = [edge + " 2", edge + "1", edge + "Extra", edge + "]x", r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft"]
    keys = parse_reg(
        export(
            (edge, [sz("a", "1")]),
            (stable, [sz("pv", "131.0.2903.70")]),
            (stable + r"\Commands", []),
            *((sibling, [sz("kept", "1")]) for sibling in siblings),
            ("-" + edge.lower(), []),
            (beta, [sz("pv", "132.0.2957.26")]),  # after the deletion: kept
            (edge + r"\{0D50BFEC-CD6A-4F9A-964C-C7416E3ACB10}", []),
            ("-" + edge + r"\{0D50BFEC-CD6A-4F9A-964C-C7416E3ACB10}", []),
            ("-" + r"HKEY_LOCAL_MACHINE\SOFTWARE\Never\Seen", []),
        )
    )
    assert keys == {
        **{sibling: {"kept": (REG_SZ, "1")} for sibling in siblings},
        beta: {"pv": (REG_SZ, "132.0.2957.26")},
    }


# Values ----------------------------------------------------------------------------------------------------


def test_default_values():
    pdf = r"HKEY_CLASSES_ROOT\.pdf"
    keys = parse_reg(export((pdf, ['@="MSEdgePDF"', sz("Content Type", "application/pdf")])))
    assert keys == {pdf: {"": (REG_SZ, "MSEdgePDF"), "Content Type": (REG_SZ, "application/pdf")}}
    assert parse_reg(export((pdf, ['""="MSEdgePDF"'])))[pdf] == {"": (REG_SZ, "MSEdgePDF")}


def test_deleting_values():
    pdf = r"HKEY_CLASSES_ROOT\.pdf"
    lines = ['@="MSEdgePDF"', sz("PerceivedType", "document"), sz("Gone", "x"), "@=-", '"gone"=-', '"never-set"=-']
    assert parse_reg(export((pdf, lines))) == {pdf: {"PerceivedType": (REG_SZ, "document")}}


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        pytest.param(
            r'"Path"="C:\\Program Files\\Mozilla Firefox\\"',
            "Path",
            r"C:\Program Files\Mozilla Firefox" + "\\",
            id="backslashes",
        ),
        pytest.param(r'"Open"="\"C:\\x.exe\" \"%1\""', "Open", '"C:\\x.exe" "%1"', id="quotes"),
        pytest.param(r'"a \"quoted\" name\\"="1"', 'a "quoted" name\\', "1", id="escapes-in-name"),
        pytest.param('"With=Equals"="a=b"', "With=Equals", "a=b", id="equals-sign-in-name"),
        pytest.param('"Semi;colon"="x;y"', "Semi;colon", "x;y", id="semicolons-inside-quotes"),
        pytest.param('"Empty"=""', "Empty", "", id="empty-string"),
        pytest.param(r'"Odd"="C:\Temp"', "Odd", r"C:\Temp", id="unknown-escape-kept"),
        pytest.param('"Name" = "spaced"', "Name", "spaced", id="blanks-around-equals"),
        pytest.param('"Übersicht"="Ω ≈ 𝄞"', "Übersicht", "Ω ≈ 𝄞", id="non-ascii"),
    ],
)
def test_string_values(line: str, name: str, value: str):
    assert parse_reg(export((FIREFOX, [line])))[FIREFOX] == {name: (REG_SZ, value)}


@pytest.mark.parametrize(
    ("line", "number"),
    [
        pytest.param('"UBR"=dword:000010e4', 4324, id="lower-case"),
        pytest.param('"UBR"=dword:000010E4', 4324, id="upper-case"),
        pytest.param('"x"=dword:ffffffff', 0xFFFFFFFF, id="largest"),
        pytest.param('"x"=dword:1f', 0x1F, id="fewer-digits-as-hand-written"),
    ],
)
def test_dword_values(line: str, number: int):
    assert parse_reg(export((FIREFOX, [line])))[FIREFOX] == {line[1 : line.index('"', 1)]: (REG_DWORD, number)}


@pytest.mark.parametrize(
    ("line", "value"),
    [
        pytest.param(binary("b", b"\x01\xab"), (REG_BINARY, b"\x01\xab"), id="hex-binary"),
        pytest.param(binary("b", b""), (REG_BINARY, b""), id="hex-empty"),
        pytest.param(hex_value("b", REG_NONE, b"V\0a\0l\0"), (REG_NONE, b"V\0a\0l\0"), id="hex0-none"),
        pytest.param(hex_value("b", REG_SZ, "x\0".encode("utf-16-le")), (REG_SZ, "x"), id="hex1-sz"),
        pytest.param(
            expand_sz("b", "%SystemRoot%\\system32"), (REG_EXPAND_SZ, "%SystemRoot%\\system32"), id="hex2-expand-sz"
        ),
        pytest.param(
            hex_value("b", REG_EXPAND_SZ, "%PATH%".encode("utf-16-le")),
            (REG_EXPAND_SZ, "%PATH%"),
            id="hex2-no-terminator",
        ),
        pytest.param(
            hex_value("b", REG_EXPAND_SZ, "ab\0\0junk".encode("utf-16-le")),
            (REG_EXPAND_SZ, "ab"),
            id="hex2-up-to-first-nul",
        ),
        pytest.param(hex_value("b", 4, b"\xe4\x10\0\0"), (REG_DWORD, 4324), id="hex4-dword"),
        pytest.param(hex_value("b", 5, b"\0\0\x10\xe4"), (5, b"\0\0\x10\xe4"), id="hex5-big-endian-dword-as-bytes"),
        pytest.param(multi_sz("b", ["a", "bc"]), (REG_MULTI_SZ, ["a", "bc"]), id="hex7-multi-sz"),
        pytest.param(multi_sz("b", []), (REG_MULTI_SZ, []), id="hex7-empty"),
        pytest.param(qword("b", 2**64 - 2), (REG_QWORD, 2**64 - 2), id="hexb-qword"),
        pytest.param(hex_value("b", 0x100000, b"\x01"), (0x100000, b"\x01"), id="hex-large-type"),
        pytest.param('"b"=hex(A):01,02', (10, b"\x01\x02"), id="hex-upper-case-type"),
    ],
)
def test_hex_values(line: str, value: tuple[int, object]):
    assert parse_reg(export((FIREFOX, [line])))[FIREFOX] == {"b": value}


@pytest.mark.parametrize("size", [0, 1, 17, 18, 19, 43, 44, 200, 4096])
def test_wrapped_hex_values_of_every_length(size: int):
    raw = bytes(byte % 256 for byte in range(size))
    assert parse_reg(export((FIREFOX, [binary("DigitalProductId", raw)])))[FIREFOX] == {
        "DigitalProductId": (REG_BINARY, raw)
    }


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(['"b"=hex:01,02,\\', "\t03,\\", "    04"], id="tab-and-four-spaces"),
        pytest.param(['"b"=hex:01,02, \\', "03,04"], id="blank-before-backslash-none-after"),
        pytest.param(['"b"=hex:\\', "  01,02,03,04"], id="nothing-before-the-first-backslash"),
        pytest.param(['"b"=hex:01,02,\\', "", "  ; a comment", "  03,04"], id="blank-and-comment-lines-between"),
    ],
)
def test_hex_values_wrapped_by_hand(lines: list[str]):
    assert parse_reg(export((FIREFOX, lines)))[FIREFOX] == {"b": (REG_BINARY, b"\x01\x02\x03\x04")}


@pytest.mark.parametrize("cut_after", range(1, MACHINE_TEXT.count("\n") + 1))
def test_an_export_cut_after_a_complete_line_is_read(cut_after: int):
    lines = MACHINE_TEXT.split("\n")
    data = utf16("\n".join(lines[:cut_after]) + "\n")
    if lines[cut_after - 1].endswith("\\"):  # the value goes on past the cut
        assert error_of(data).startswith(f"line {cut_after}: truncated export: the file ends inside a hex value")
        return
    keys = parse_reg(data)
    full = parse_reg(MACHINE)
    for path, values in keys.items():
        assert values.items() <= full[path].items()


# Malformed input --------------------------------------------------------------------------------------------


def cut_before(marker: str, keep: int) -> bytes:
    """The machine's export cut ``keep`` characters into the first occurrence of ``marker``, as an
    interrupted copy leaves it."""
    return utf16(MACHINE_TEXT[: MACHINE_TEXT.index(marker) + keep])


NOT_AN_EXPORT = "line 1: not a registry export (no 'Windows Registry Editor Version 5.00' header)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", NOT_AN_EXPORT, id="empty"),
        pytest.param(utf16(""), NOT_AN_EXPORT, id="only-a-bom"),
        pytest.param(utf16(f"[{FIREFOX}]\n"), NOT_AN_EXPORT, id="no-header"),
        pytest.param(utf16(f"\n{HEADER}\n"), NOT_AN_EXPORT, id="header-not-on-line-1"),
        pytest.param(utf16("Windows Registry Editor Version 4.00\n"), NOT_AN_EXPORT, id="other-version"),
        pytest.param(utf16("REGEDIT 4\n"), NOT_AN_EXPORT, id="regedit-space-4"),
        pytest.param(MACHINE_TEXT.encode("utf-16-be"), NOT_AN_EXPORT, id="utf16-big-endian"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00", NOT_AN_EXPORT, id="binary"),
        pytest.param(
            utf16(f"{HEADER}\n\n[{FIREFOX}]\n") + b"\x00\xdc",
            "line 4: bytes that are not UTF-16LE text",
            id="lone-surrogate",
        ),
        pytest.param(
            utf16(f"{HEADER}\n\n[{FIREFOX}]\n") + b"x", "line 4: bytes that are not UTF-16LE text", id="odd-byte-count"
        ),
        pytest.param(
            f"{HEADER}\n\n".encode() + b'"\xe9"\n', "line 3: bytes that are not UTF-8 text", id="latin1-in-utf8"
        ),
        pytest.param(
            b'REGEDIT4\r\n\r\n[HKCU]\r\n"x"="\x81"\r\n', "line 4: bytes that are not cp1252 text", id="undefined-cp1252"
        ),
        pytest.param(
            cut_before('"131.0.6778.86"\n"DisplayVersion"', 5),
            "line 67: truncated export (the file ends inside this line): unterminated string",
            id="cut-inside-a-string",
        ),
        pytest.param(
            cut_before("30,2d,30,30,30,30,30,2d,41", 6),
            "line 18: truncated export (the file ends inside this line): hex list ends with ','",
            id="cut-after-a-hex-comma",
        ),
        pytest.param(
            cut_before("30,2d,30,30,30,30,30,2d,41", 7),
            "line 18: truncated export (the file ends inside this line): bad hex byte '3'",
            id="cut-inside-a-hex-byte",
        ),
        pytest.param(
            cut_before('"Publisher"', 4),
            "line 66: truncated export (the file ends inside this line): unterminated value name",
            id="cut-inside-a-value-name",
        ),
        pytest.param(
            cut_before("\\Google Chrome]", 0),
            "line 58: truncated export (the file ends inside this line): key header without a closing ']'",
            id="cut-inside-a-key-header",
        ),
        pytest.param(
            cut_before('"Google LLC"', 0),
            "line 66: truncated export (the file ends inside this line): no data after '='",
            id="cut-after-the-equals-sign",
        ),
    ],
)
def test_unreadable_files(data: bytes, message: str):
    assert error_of(data).startswith(message)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        pytest.param(['"UBR"=dword:000010g4'], "line 4: bad dword '000010g4'", id="dword-not-hex"),
        pytest.param(['"UBR"=dword:0000010e4'], "line 4: bad dword '0000010e4'", id="dword-nine-digits"),
        pytest.param(['"UBR"=dword:'], "line 4: bad dword ''", id="dword-empty"),
        pytest.param(['"UBR"=dword:0x10e4'], "line 4: bad dword '0x10e4'", id="dword-0x"),
        pytest.param(['"UBR"=dword:-1'], "line 4: bad dword '-1'", id="dword-negative"),
        pytest.param(['"b"=hex:aa,b,cc'], "line 4: bad hex byte 'b': two hex digits expected", id="odd-hex-byte"),
        pytest.param(['"b"=hex:aaa'], "line 4: bad hex byte 'aaa'", id="three-hex-digits"),
        pytest.param(['"b"=hex:aa,,bb'], "line 4: bad hex byte ''", id="empty-hex-byte"),
        pytest.param(['"b"=hex:a a'], "line 4: bad hex byte 'a a'", id="blank-inside-hex-byte"),
        pytest.param(['"b"=hex:zz'], "line 4: bad hex byte 'zz'", id="not-hex"),
        pytest.param(['"b"=hex:aa,\\', "  bb,c"], "line 5: bad hex byte 'c'", id="odd-hex-byte-on-continuation-line"),
        pytest.param(
            ['"b"=hex:aa,bb,', '"c"="d"'], "line 4: hex list ends with ','", id="hex-comma-without-continuation"
        ),
        pytest.param(
            ['"b"=hex:aa,bb\\', "  cc"], "line 4: ',' expected before the '\\'", id="hex-backslash-without-comma"
        ),
        pytest.param(['"b"=hex:aa,\\', '"c"="d"'], 'line 5: bad hex byte \'"c"="d"\'', id="hex-continued-by-a-value"),
        pytest.param(['"b"=hex(zz):00'], "line 4: bad value type 'hex(zz):'", id="hex-type-not-hex"),
        pytest.param(['"b"=hex(0x2):00'], "line 4: bad value type 'hex(0x2):'", id="hex-type-0x"),
        pytest.param(['"b"=hex(2:00'], "line 4: bad value type", id="hex-type-unclosed"),
        pytest.param(['"b"=qword:0000000000000001'], "line 4: unknown value type 'qword:000000'", id="qword-prefix"),
        pytest.param(['"b"=DWORD:00000001'], "line 4: unknown value type 'DWORD:000000'", id="upper-case-type"),
        pytest.param(['"b"="x" junk'], "line 4: unexpected text after the string", id="text-after-string"),
        pytest.param(['"b"="x'], "line 4: unterminated string", id="unterminated-string-mid-file"),
        pytest.param(['"b"="x\\"'], "line 4: unterminated string", id="escaped-final-quote"),
        pytest.param(['"b="x"'], "line 4: '=' expected after the value name", id="name-quote-unbalanced"),
        pytest.param(['"b"'], "line 4: '=' expected after the value name", id="name-without-equals"),
        pytest.param(['"b"='], "line 4: no data after '='", id="nothing-after-equals"),
        pytest.param(["b=1"], "line 4: not a key, a value or a comment: 'b=1'", id="unquoted-name"),
        pytest.param(["# comment"], "line 4: not a key, a value or a comment", id="hash-comment"),
        pytest.param(["  aa,bb"], "line 4: not a key, a value or a comment", id="stray-continuation"),
        pytest.param(["[HKEY_LOCAL_MACHINE\\SOFTWARE"], "line 4: key header without a closing ']'", id="key-unclosed"),
        pytest.param(["[HKLM\\SOFTWARE] x"], "line 4: text after the key header's ']'", id="text-after-key"),
        pytest.param(
            ["[HKEY_LOCAL_MACHINES\\SOFTWARE]"], "line 4: unknown root key 'HKEY_LOCAL_MACHINES'", id="unknown-root"
        ),
        pytest.param(["[SOFTWARE\\Mozilla]"], "line 4: unknown root key 'SOFTWARE'", id="no-root"),
        pytest.param(["[HKEY_DYN_DATA]"], "line 4: unknown root key 'HKEY_DYN_DATA'", id="windows-9x-root"),
        pytest.param(["[ HKLM\\SOFTWARE]"], "line 4: unknown root key ' HKLM'", id="blank-before-root"),
        pytest.param(["[]"], "line 4: unknown root key ''", id="empty-key"),
        pytest.param([f"[-{FIREFOX}]", '"a"="b"'], "line 5: value outside any key", id="value-after-deleted-key"),
    ],
)
def test_malformed_lines(lines: list[str], message: str):
    assert error_of(export((FIREFOX, lines))).startswith(message)


def test_a_value_before_any_key():
    assert error_of(utf16(f'{HEADER}\n\n"ProductName"="Windows 10 Pro"\n')) == "line 3: value outside any key"


def test_a_hex_value_continued_past_the_end_of_the_file():
    data = utf16(f'{HEADER}\n\n[{FIREFOX}]\n"b"=hex:aa,bb,\\\n\n  ; no more\n')
    assert error_of(data) == "line 4: truncated export: the file ends inside a hex value"


def test_the_error_carries_its_line():
    with pytest.raises(RegFileError) as caught:
        parse_reg(export((FIREFOX, ['"UBR"=dword:xyz'])))
    assert isinstance(caught.value, ValueError)
    assert (caught.value.line, caught.value.reason) == (4, "bad dword 'xyz': 1 to 8 hex digits expected")


# Properties ------------------------------------------------------------------------------------------------

_ERROR = re.compile(r"line [1-9][0-9]*: \S")


def _only_its_error(data: bytes) -> None:
    try:
        keys = parse_reg(data)
    except RegFileError as error:
        assert _ERROR.match(str(error)), str(error)
        assert 1 <= error.line <= max(1, len(data))
        return
    assert all(isinstance(values, dict) for values in keys.values())


@HYPOTHESIS
@given(st.binary(max_size=400) | st.binary(max_size=400).map(lambda tail: MACHINE[:300] + tail))
def test_arbitrary_bytes_raise_nothing_but_its_error(data: bytes):
    _only_its_error(data)


_FRAGMENTS = [
    *MACHINE_TEXT.split("\n")[1:],
    "[",
    "]",
    "[-",
    "\\",
    '"',
    "@=",
    "=",
    "hex(",
    "):",
    ",",
    "dword:",
    ";",
    " ",
]


@HYPOTHESIS
@given(st.text() | st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=5)).map("\n".join))
def test_arbitrary_text_after_a_valid_header_raises_nothing_but_its_error(text: str):
    _only_its_error(utf16(f"{HEADER}\n{text}"))
    _only_its_error(f"{HEADER}\n{text}".encode())


_NAME = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=12)
_VALUE = st.one_of(
    _NAME.map(lambda text: (REG_SZ, text)),
    st.integers(0, 2**32 - 1).map(lambda number: (REG_DWORD, number)),
    st.integers(0, 2**64 - 1).map(lambda number: (REG_QWORD, number)),
    st.binary(max_size=120).map(lambda raw: (REG_BINARY, raw)),
    _NAME.map(lambda text: (REG_EXPAND_SZ, text)),
    st.lists(_NAME.filter(bool), max_size=4).map(lambda strings: (REG_MULTI_SZ, strings)),
    st.tuples(st.integers(0, 2**32 - 1).filter(lambda kind: kind not in (1, 2, 4, 7, 11)), st.binary(max_size=40)),
)
_COMPONENT = st.text(
    st.characters(blacklist_characters="\r\n\\", blacklist_categories=("Cs",)), min_size=1, max_size=10
)


def _line(name: str, value: tuple[int, object]) -> str:
    kind, data = value
    if isinstance(data, str):
        return sz(name, data) if kind == REG_SZ else expand_sz(name, data)
    if isinstance(data, int):
        return dword(name, data) if kind == REG_DWORD else qword(name, data)
    if isinstance(data, list):
        return multi_sz(name, data)
    assert isinstance(data, bytes)
    return hex_value(name, kind, data)


@HYPOTHESIS
@given(
    st.dictionaries(
        st.lists(_COMPONENT, min_size=1, max_size=3).map(lambda parts: "\\".join(["HKEY_CURRENT_USER", *parts])),
        st.dictionaries(_NAME, _VALUE, max_size=5),
        max_size=4,
    ).filter(
        lambda keys: (
            len({path.lower() for path in keys}) == len(keys)
            and all(len({name.lower() for name in values}) == len(values) for values in keys.values())
        )
    )
)
def test_whatever_regedit_writes_reads_back(keys: dict[str, dict[str, tuple[int, object]]]):
    data = export(*((path, [_line(name, value) for name, value in values.items()]) for path, values in keys.items()))
    assert parse_reg(data) == keys


@HYPOTHESIS
@given(
    st.lists(st.tuples(st.booleans(), st.lists(st.sampled_from(["a", "A", "a b", "a1", "b", "a]", "[a"]), max_size=3)))
)
def test_key_deletion_matches_a_plain_model(operations: list[tuple[bool, list[str]]]):
    # A key deleted ([-KEY]) takes its subkeys with it, compared without regard to case; the model is the
    # obvious scan over every key.
    model: dict[str, str] = {}
    headers = []
    for delete, parts in operations:
        path = "\\".join(["HKEY_CURRENT_USER", *parts])
        lower = path.lower()
        if delete:
            model = {key: spelt for key, spelt in model.items() if key != lower and not key.startswith(lower + "\\")}
        else:
            model.setdefault(lower, path)
        headers.append(("-" if delete else "") + path)
    assert list(parse_reg(export(*((header, []) for header in headers)))) == list(model.values())


# Keys thousands of levels deep ------------------------------------------------------------------------------

_DEEP = """
import resource, sys, tracemalloc
# A regression must fail this test with MemoryError, not take the machine's memory: the quadratic
# version needed about 1.8 GB here.
resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, 1024 * 1024 * 1024))
from clientcheck.inspect.formats.regfile import parse_reg
from clientcheck.inspect.registry import ExportedRegistry

depth = int(sys.argv[1])
deep = "HKEY_LOCAL_MACHINE\\\\SOFTWARE" + "\\\\Key" * depth
text = "Windows Registry Editor Version 5.00\\r\\n\\r\\n[" + deep + ']\\r\\n"pv"="1.2.3"\\r\\n\\r\\n'
text += "[-" + deep.rsplit("\\\\", depth // 2)[0] + "]\\r\\n\\r\\n[" + deep + ']\\r\\n"pv"="4.5.6"\\r\\n'
data = b"\\xff\\xfe" + text.encode("utf-16-le")
tracemalloc.start()
registry = ExportedRegistry(parse_reg(data))
assert registry.string(deep, "pv") == "4.5.6", "the key deleted and written again"
assert registry.subkeys(deep.rsplit("\\\\", 1)[0]) == ["Key"]
assert registry.values(deep.rsplit("\\\\", 1)[0]) == {}, "an ancestor exists, without values"
print(tracemalloc.get_traced_memory()[1])
"""


def test_a_key_40000_levels_deep_takes_memory_in_proportion_to_the_file():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _DEEP, "40000"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stdout)
    # The export is 1.3 MB of UTF-16; linear parsing holds a few copies of its text and one small node per
    # level (about 12 MB in all); the square of the depth would be gigabytes.
    assert peak < 48 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_an_exported_registry_lists_every_ancestor_without_regard_to_case():
    from clientcheck.inspect.registry import ExportedRegistry

    registry = ExportedRegistry(
        {
            r"HKEY_LOCAL_MACHINE\SOFTWARE\Google\Update\Clients\{8A69}": {"pv": (REG_SZ, "131.0")},
            r"HKEY_LOCAL_MACHINE\SOFTWARE\google\update\clients\{8a69}\Commands": {},
            r"HKEY_LOCAL_MACHINE\SOFTWARE\Mozilla": {"": (REG_SZ, "default")},
        }
    )
    assert registry.subkeys("HKEY_LOCAL_MACHINE") == ["SOFTWARE"]
    assert registry.subkeys(r"hkey_local_machine\software") == ["Google", "Mozilla"]  # the first spelling
    assert registry.subkeys(r"HKEY_LOCAL_MACHINE\SOFTWARE\GOOGLE\UPDATE\CLIENTS\{8A69}") == ["Commands"]
    assert registry.values(r"HKEY_LOCAL_MACHINE\SOFTWARE\Google") == {}  # an ancestor exists, without values
    assert registry.string(r"HKEY_LOCAL_MACHINE\SOFTWARE\GOOGLE\update\Clients\{8a69}", "PV") == "131.0"
    assert registry.string(r"HKEY_LOCAL_MACHINE\SOFTWARE\Mozilla", "") == "default"
    assert registry.values(r"HKEY_LOCAL_MACHINE\SOFTWARE\Missing") is None
    assert registry.subkeys(r"HKEY_LOCAL_MACHINE\SOFTWARE\Missing") == []
    assert registry.values("") is None
