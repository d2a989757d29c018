"""Hostile Linux package databases and metadata: dpkg's status file and .list files, desktop entries and
other key files, os-release, snap.yaml and AppStream metainfo. Each gives its answer or its own error, ends,
and takes memory and work in proportion to its input; where a reference reader exists (a plain deb822 split,
Python's own os-release reader, PyYAML, a line split), they agree on what both read."""

from __future__ import annotations

import platform
import random

import pytest
import yaml
from hostile_limits import FUZZ, FUZZ_FEW, grows_linearly, outcome
from hypothesis import given
from hypothesis import strategies as st

from clientcheck.inspect.formats import dpkg
from clientcheck.inspect.formats.keyfile import group_section, key_value, key_values, parse_keyfile
from clientcheck.inspect.formats.metainfo import MetainfoError, newest_release
from clientcheck.inspect.formats.osrelease import OsReleaseError, parse_os_release
from clientcheck.inspect.formats.snap import top_level_scalars

# Work: how many characters the string searches scan ----------------------------------------------------------


class _CountingText(str):
    """Text that counts the characters its ``find`` calls and slices go over: the work of a parser that
    reads with them, counted instead of timed."""

    scanned = 0

    def find(self, sub, start=0, end=None):  # type: ignore[override]
        end = len(self) if end is None else end
        found = str.find(self, sub, start, end)
        _CountingText.scanned += (found if found != -1 else end) - start
        return found

    def __getitem__(self, key):  # type: ignore[override]
        item = str.__getitem__(self, key)
        _CountingText.scanned += len(item)
        return item


def _work(call, text: str) -> int:
    _CountingText.scanned = 0
    call(_CountingText(text))
    return _CountingText.scanned


def _work_grows_linearly(make, call, size: int) -> None:
    small, large = make(size), make(4 * size)
    small_work, large_work = _work(call, small), _work(call, large)
    growth = len(large) / len(small)
    assert large_work <= 1.5 * growth * small_work + 10_000, (
        f"work grows faster than the input: {small_work} characters scanned for {len(small)}, "
        f"{large_work} for {len(large)}"
    )


# dpkg --------------------------------------------------------------------------------------------------------

_STATES = [
    "install ok installed",
    "hold ok installed",
    "deinstall ok config-files",
    "install ok half-configured",
    "install reinstreq half-installed",
    "install ok unpacked",
    "purge ok not-installed",
    "install ok triggers-pending",
    "install ok",
]
_PACKAGE = st.sampled_from(["evince", "evince-common", "firefox-esr", "chromium", "okular", "a", "z9+x.y-1"])


@st.composite
def _stanza(draw: st.DrawFn, name: str, architecture: str) -> tuple[bytes, dict[str, str]]:
    fields: dict[str, str] = {"Package": name}
    if draw(st.integers(0, 9)):
        fields["Status"] = draw(st.sampled_from(_STATES))
    fields["Priority"] = "optional"
    fields["Architecture"] = architecture
    if draw(st.booleans()):
        fields["Multi-Arch"] = "same"
    if draw(st.integers(0, 7)):
        fields["Version"] = draw(
            st.sampled_from(["153.7.0esr-1~deb12u1", "43.1-2+b1", "4:22.12.3-1", "1.0", "2:1snap1-0ubuntu2"])
            | st.from_regex(r"\A[0-9][0-9A-Za-z.+~:-]{0,12}\Z")
        )
    if draw(st.booleans()):
        fields["Config-Version"] = "0.9"
    lines = [f"{key}: {value}" for key, value in fields.items()]
    if draw(st.booleans()):  # continuation lines that look like fields, as descriptions hold
        lines += ["Description: a package", " Package: not-this", " Version: 999", " .", "\tStatus: x"]
    return ("\n".join(lines) + "\n").encode(), fields


@st.composite
def _status_file(draw: st.DrawFn) -> tuple[bytes, list[dict[str, str]]]:
    """A status file as dpkg writes it (sorted by name, then architecture; every stanza closed by a blank
    line), or shuffled as another tool might leave it."""
    keys = draw(st.lists(st.tuples(_PACKAGE, st.sampled_from(["amd64", "i386", "all"])), max_size=12, unique=True))
    stanzas = [draw(_stanza(name, architecture)) for name, architecture in sorted(keys)]
    if draw(st.booleans()):
        random.Random(draw(st.integers())).shuffle(stanzas)  # noqa: S311 - a reproducible order
    return b"".join(text + b"\n" for text, _ in stanzas), [fields for _, fields in stanzas]


def _reference_package(stanzas: list[dict[str, str]], name: str, sorted_file: bool) -> list[tuple[object, ...]]:
    """What find_package may answer: the installed stanza of that name if any, else the first. (In a file
    that is not sorted, stanzas of one name may lie apart, and any of them is a fair answer.)"""
    mine = [fields for fields in stanzas if fields["Package"] == name]
    if not mine:
        return [None]
    if not sorted_file:
        candidates = mine
    else:
        installed = [
            f
            for f in mine
            if len(f.get("Status", "").split()) == 3
            and f["Status"].split()[2]
            in ("installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending")
        ]
        candidates = installed[:1] or mine[:1]
    return [
        (
            fields["Package"],
            fields.get("Version"),
            fields["Architecture"],
            len(fields.get("Status", "").split()) == 3
            and fields["Status"].split()[2]
            in ("installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending"),
        )
        for fields in candidates
    ]


@FUZZ
@given(_status_file(), _PACKAGE)
def test_dpkg_status_agrees_with_a_plain_deb822_split(generated, name: str):
    status, stanzas = generated
    names = [fields["Package"] for fields in stanzas]
    is_sorted = names == sorted(names)
    found = outcome(lambda: dpkg.find_package(status, name))
    answer = None if found is None else (found.name, found.version, found.architecture, found.installed)
    assert answer in _reference_package(stanzas, name, is_sorted)


@FUZZ
@given(
    _status_file(),
    st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=5) | st.sampled_from([b"\n", b"\n\n", b"Package: "]))),
    _PACKAGE | st.text(max_size=6),
)
def test_a_damaged_status_file_answers_or_says_nothing(generated, damage, name: str):
    status = bytearray(generated[0])
    for where, noise in damage:
        at = int(where * len(status))
        status[at : at + len(noise)] = noise
    found = outcome(lambda: dpkg.find_package(bytes(status), name))
    assert found is None or (isinstance(found.installed, bool) and found.name == name)


_PATH = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12).map(
    lambda text: "/" + text
)


@FUZZ
@given(st.lists(_PATH | st.sampled_from(["/usr/bin/evince", "/.", "/usr", ""]), max_size=8), _PATH, st.booleans())
def test_a_list_file_names_a_path_exactly_when_a_line_is_that_path(lines: list[str], path: str, listed: bool):
    if listed:
        lines = [*lines, path]
    data = b"".join(line.encode("utf-8", "surrogateescape") + b"\n" for line in lines)
    expected = path.encode("utf-8", "surrogateescape") in data.split(b"\n")
    assert dpkg.list_contains(data, path) is expected
    # Cut short (the last line without its newline): the cut line is not read, every line before it is.
    cut = data.rstrip(b"\n")
    assert dpkg.list_contains(cut, path) is (path.encode("utf-8", "surrogateescape") in cut.split(b"\n")[:-1])


@pytest.mark.parametrize(
    ("make", "size"),
    [
        pytest.param(
            lambda n: b"".join(
                b"Package: p%06d\nStatus: install ok installed\nVersion: 1.%d\n\n" % (i, i) for i in range(n)
            ),
            2000,
            id="many-stanzas",
        ),
        pytest.param(
            lambda n: b"Package: evince\nDescription: x\n" + b" line\n" * n + b"\n", 20_000, id="one-long-stanza"
        ),
        pytest.param(
            lambda n: b"Package: evince\nStatus: install ok installed\nArchitecture: amd64\n\n" * n,
            2000,
            id="one-name-many-times",
        ),
    ],
)
def test_dpkg_memory_grows_with_the_file_not_faster(make, size: int):
    grows_linearly(make, lambda status: dpkg.find_package(status, "evince"), size)


# Key files (desktop entries, application.ini, flatpak metadata) --------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: "[Desktop Entry]" * n, id="headers-on-one-line"),
        pytest.param(lambda n: "[Desktop Entry]\n" * n, id="a-header-on-every-line"),
        pytest.param(lambda n: "x[Desktop Entry]" * n + "\n[Desktop Entry]\nName=x\n", id="headers-inside-a-line"),
        pytest.param(lambda n: "[Desktop Entry]\n" + "Name" * n + "\nName=x\n", id="a-key-repeated-on-one-line"),
        pytest.param(lambda n: "[Desktop Entry]\n" + "\nName " * n + "\nName=x\n", id="keys-without-values"),
    ],
)
def test_desktop_entry_look_ups_do_work_in_proportion_to_the_file(make):
    def look_up(text: str) -> None:
        section = group_section(text, "Desktop Entry")
        if section is not None:
            key_values(_CountingText(section), ("Name", "Exec", "MimeType", "X-Flatpak"))

    _work_grows_linearly(make, look_up, 5000)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda n: "[Desktop Entry]\n" + "".join(f"Name[x{i}]=Évince {i}\n" for i in range(n)), id="many-keys"
        ),
        pytest.param(lambda n: "".join(f"[Group {i}]\nKey=v\n" for i in range(n)), id="many-groups"),
        pytest.param(lambda n: "[App]\nVersion=" + "9" * n + "\n", id="one-long-value"),
    ],
)
def test_key_file_memory_grows_with_the_file_not_faster(make):
    grows_linearly(make, parse_keyfile, 5000)


_KEYFILE_LINE = st.one_of(
    st.sampled_from(["[Desktop Entry]", "[App]", "[Desktop Action new]", "", "#", "; x", "[", "]", "=", "Name=Évince"]),
    st.tuples(st.sampled_from(["Name", "Exec", "Version", "Name[de]", " Name", "Name "]), st.text(max_size=8)).map(
        "=".join
    ),
    st.text(max_size=10),
)


@FUZZ
@given(st.lists(_KEYFILE_LINE, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_key_files_read_line_by_line_as_desktops_do(lines: list[str], newline: str):
    # GLib and Firefox's INI reader split lines on "\n" alone (a "\r" before it is dropped); a character
    # that str.splitlines() also breaks on (U+0085, U+2028, a form feed…) is part of a value, not a line end.
    text = newline.join(lines)
    groups = outcome(lambda: parse_keyfile(text))
    reference: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            name = line[1:-1].strip()
            current = None if name in reference else reference.setdefault(name, {})
            continue
        key, sep, value = line.partition("=")
        if current is not None and sep and key.strip() and key.strip() not in current:
            current[key.strip()] = value.strip()
    assert groups == reference
    for group, keys in groups.items():
        section = group_section(text, group)
        if section is None or list(groups) != list(dict.fromkeys(groups)):
            continue
        for key in keys:
            found = key_value(section, key)
            assert found is None or isinstance(found, str)


# os-release ------------------------------------------------------------------------------------------------

_OS_KEY = st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,10}\Z")
# Characters str.splitlines() breaks a line on, but systemd and Python's reader (lines end at "\n") do not.
_NOT_LINE_ENDS = st.sampled_from(["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"])
_OS_VALUE = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9._-]{1,12}\Z"),  # plain
    st.text(st.characters(blacklist_characters='"\\$`\n\r', blacklist_categories=("Cs", "Cc")), max_size=12).map(
        lambda text: f'"{text}"'
    ),
    st.tuples(_NOT_LINE_ENDS, st.sampled_from(["ID=windows", "x", ""])).map(lambda parts: f'"a{"".join(parts)}"'),
    st.text(st.characters(blacklist_characters="'\\\n\r", blacklist_categories=("Cs", "Cc")), max_size=12).map(
        lambda text: f"'{text}'"
    ),
    st.lists(st.sampled_from(['\\"', "\\\\", "\\$", "\\`", "a", " "]), max_size=6).map(
        lambda parts: '"' + "".join(parts) + '"'
    ),
)


@FUZZ
@given(st.lists(st.tuples(_OS_KEY, _OS_VALUE), max_size=8), st.sampled_from(["ID", "NAME"]), _OS_VALUE)
def test_os_release_agrees_with_pythons_own_reader(pairs, required_key: str, required_value: str):
    # Python's platform.freedesktop_os_release() reader is the reference for well-formed lines (it is more
    # lenient than systemd with lines that are not, so those are left to the unit tests).
    pairs = [*pairs, (required_key, required_value)]
    lines = [f"{key}={value}" for key, value in pairs]
    expected = platform._parse_os_release(lines)
    result = outcome(lambda: parse_os_release("\n".join(lines)), OsReleaseError)
    if isinstance(result, OsReleaseError):  # only a file with neither an ID nor a NAME is refused
        assert not any(expected[key] for key in ("ID", "NAME") if key in dict(pairs))
        return
    assert result == {key: expected[key] for key, _ in pairs}


@pytest.mark.parametrize(
    ("make", "size"),
    [
        pytest.param(lambda n: "".join(f'KEY{i}="value {i}"\n' for i in range(n)) + "ID=x\n", 5000, id="many-lines"),
        pytest.param(lambda n: 'ID="' + "\\\\" * n + '"\n', 20_000, id="many-escapes"),
        pytest.param(lambda n: "X\n" * n, 20_000, id="many-bad-lines"),
    ],
)
def test_os_release_memory_grows_with_the_file_not_faster(make, size: int):
    grows_linearly(make, parse_os_release, size, OsReleaseError)


# snap.yaml -------------------------------------------------------------------------------------------------

_YAML_SCALAR = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._~+-]{0,15}\Z"),
    st.text(st.characters(blacklist_characters="'\n\r", blacklist_categories=("Cs", "Cc")), max_size=12).map(
        lambda text: f"'{text}'"
    ),
    st.text(st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs", "Cc")), max_size=12).map(
        lambda text: f'"{text}"'
    ),
)


@FUZZ_FEW
@given(
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["name", "version", "base", "summary", "grade"]), _YAML_SCALAR).map(
                lambda pair: f"{pair[0]}: {pair[1]}"
            ),
            st.sampled_from(["apps:", "  firefox:", "    command: firefox", "plugs:", "  - home", "# note", "---"]),
        ),
        max_size=10,
    )
)
def test_snap_yaml_scalars_agree_with_pyyaml(lines: list[str]):
    text = "\n".join(lines) + "\n"
    values = outcome(lambda: top_level_scalars(text))
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # not YAML: an indented line after a scalar, a list where a mapping began
    if not isinstance(document, dict):
        return
    for key, value in values.items():
        written = [line for line in lines if line.startswith(key + ":")]
        if len(written) == 1 and isinstance(document.get(key), str):  # once, and a string to YAML too
            assert value == document[key], written[0]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: "".join(f"key{i}: value\n" for i in range(n)), id="many-keys"),
        pytest.param(lambda n: "version: '" + "x" * n + "'\n", id="one-long-value"),
        pytest.param(lambda n: "a:" + " " * n + "#\n", id="long-blank-run"),
    ],
)
def test_snap_yaml_memory_grows_with_the_file_not_faster(make):
    grows_linearly(make, top_level_scalars, 5000)


# AppStream metainfo ----------------------------------------------------------------------------------------

_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE component [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><component><releases><release version="&j;"/></releases></component>'
)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_LAUGHS, id="billion-laughs"),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<component><releases><release version="&x;"/></releases></component>',
            id="external-entity",
        ),
        pytest.param("<component>" + "<a>" * 100_000 + "</a>" * 100_000 + "</component>", id="100000-deep"),
        pytest.param('<?xml version="1.0" encoding="UTF-16"?><component/>', id="wrong-declared-encoding"),
    ],
)
def test_hostile_metainfo_gives_a_release_or_its_error(text: str):
    result = outcome(lambda: newest_release(text), MetainfoError)
    assert result is None or isinstance(result, MetainfoError) or (isinstance(result, str) and "root:" not in result)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: "<component>" + "<a>" * n + "</a>" * n + "</component>", id="deep"),
        pytest.param(
            lambda n: "<component><releases>" + '<release version=""/>' * n + "</releases></component>",
            id="many-releases",
        ),
    ],
)
def test_metainfo_memory_grows_with_the_file_not_faster(make):
    grows_linearly(make, newest_release, 5000, MetainfoError)
