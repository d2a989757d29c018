"""Which language a run speaks: asked for (--lang, report.language), else the locale as GNU gettext reads it,
else the desktop's own (Windows registry, macOS preferences); a language asked for that has no messages
warns once and falls back to English, one from the environment falls back silently."""

from __future__ import annotations

import plistlib

import pytest

from clientcheck.inspect.formats.regfile import parse_reg
from clientcheck.inspect.interface import macos_languages, recheck_registered, windows_languages
from clientcheck.inspect.registry import ExportedRegistry
from clientcheck.language import choose_language, environment_languages, locale_tag, normal_tag

SHIPPED = ["de", "es", "fr", "it", "nl", "pt"]


def choose(asked: str | None, env: dict[str, str], interface: list[str] | None = None) -> tuple[str, list[str]]:
    warnings: list[str] = []
    asked_interface: list[bool] = []

    def desktop() -> list[str]:
        asked_interface.append(True)
        return interface or []

    tag = choose_language(asked, env, lambda: SHIPPED, warnings.append, desktop if interface is not None else None)
    return tag, warnings


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("de_DE", "de-DE"),
        ("de-at", "de-AT"),
        ("pt-BR", "pt-BR"),
        ("zh_Hant_TW", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("", None),
        ("d", None),
        ("deutsch", None),
        ("../../etc/passwd", None),
        ("de-DE-x-very-long-private-use", None),
        ("dé", None),
    ],
)
def test_tags(text: str, tag: str | None):
    assert normal_tag(text) == tag


@pytest.mark.parametrize(
    ("value", "tag"),
    [("de_DE.UTF-8", "de-DE"), ("de_DE.UTF-8@euro", "de-DE"), ("C", None), ("C.UTF-8", None), ("POSIX", None)],
)
def test_locale_names(value: str, tag: str | None):
    assert locale_tag(value) == tag


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, []),
        ({"LANG": "de_DE.UTF-8"}, ["de-DE"]),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, ["fr-FR"]),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8", "LC_ALL": "it_IT.UTF-8"}, ["it-IT"]),
        ({"LANG": "de_DE.UTF-8", "LANGUAGE": "nl:fr"}, ["nl", "fr"]),
        # GNU gettext ignores LANGUAGE in the C locale (or with no locale at all): English.
        ({"LANG": "C.UTF-8", "LANGUAGE": "de"}, []),
        ({"LANGUAGE": "de"}, []),
        ({"LC_ALL": "C", "LANG": "de_DE.UTF-8"}, []),
    ],
)
def test_the_environment_as_gnu_gettext_reads_it(env: dict[str, str], wanted: list[str]):
    assert environment_languages(env) == wanted


def test_asked_for_it_is_spoken_with_its_region():
    assert choose("de-AT", {"LANG": "fr_FR.UTF-8"}) == ("de-AT", [])
    assert choose("en-GB", {}) == ("en-GB", [])


def test_an_unknown_language_asked_for_warns_once_and_says_english():
    assert choose("sv", {"LANG": "de_DE.UTF-8"}) == (
        "en",
        ["no messages in language 'sv' (there are: de, en, es, fr, it, nl, pt): the messages are in English"],
    )
    assert choose("xx_YY.UTF-8", {}) == (
        "en",
        ["language 'xx_YY.UTF-8' is not a language tag (like de or pt-BR): the messages are in English"],
    )


def test_an_unknown_language_from_the_environment_is_english_without_a_word():
    assert choose(None, {"LANG": "sv_SE.UTF-8"}) == ("en", [])
    assert choose(None, {"LANG": "de_DE.UTF-8", "LANGUAGE": "sv:ja"}) == ("en", [])  # as gettext: LANGUAGE rules
    assert choose(None, {"LANG": "de_DE.UTF-8", "LANGUAGE": "sv:pt_BR:de"}) == ("pt-BR", [])
    assert choose(None, {"LANG": "tlh_KX.UTF-8@klingon"}) == ("en", [])


def test_the_desktops_languages_count_only_where_the_environment_names_none():
    assert choose(None, {}, ["sv-SE", "de-DE", "en-US"]) == ("de-DE", [])
    assert choose(None, {"LANG": "C.UTF-8"}, ["fr-FR"]) == ("fr-FR", [])
    assert choose(None, {"LANG": "nl_NL.UTF-8"}, ["fr-FR"]) == ("nl-NL", [])
    assert choose(None, {"LANG": "sv_SE.UTF-8"}, ["fr-FR"]) == ("en", [])  # the locale said Swedish
    assert choose(None, {}, ["Klingon", "ja-JP"]) == ("en", [])


# --- the desktop's languages -------------------------------------------------------------------------------


def _multi_sz(*values: str) -> str:
    data = "".join(f"{value}\0" for value in values).encode("utf-16-le") + b"\0\0"
    return "hex(7):" + ",".join(f"{byte:02x}" for byte in data)


def _registry(*lines: str) -> ExportedRegistry:
    text = "Windows Registry Editor Version 5.00\r\n\r\n" + "\r\n".join(lines) + "\r\n"
    return ExportedRegistry(parse_reg(b"\xff\xfe" + text.encode("utf-16-le")))


def test_windows_display_language_from_the_registry():
    user_choice = _registry(
        "[HKEY_CURRENT_USER\\Control Panel\\Desktop]",
        f'"PreferredUILanguages"={_multi_sz("de-DE")}',
        "",
        "[HKEY_CURRENT_USER\\Control Panel\\International\\User Profile]",
        f'"Languages"={_multi_sz("fr-FR", "en-US")}',
    )
    assert windows_languages(user_choice) == ["de-DE"]
    listed = _registry(
        "[HKEY_CURRENT_USER\\Control Panel\\International\\User Profile]",
        f'"Languages"={_multi_sz("fr-FR", "en-US")}',
        "",
        "[HKEY_CURRENT_USER\\Control Panel\\Desktop\\MuiCached]",
        f'"MachinePreferredUILanguages"={_multi_sz("nl-NL")}',
    )
    assert windows_languages(listed) == ["fr-FR", "en-US"]
    machine_only = _registry(
        "[HKEY_CURRENT_USER\\Control Panel\\Desktop\\MuiCached]", f'"MachinePreferredUILanguages"={_multi_sz("nl-NL")}'
    )
    assert windows_languages(machine_only) == ["nl-NL"]
    assert windows_languages(_registry("[HKEY_CURRENT_USER\\Software]")) == []


def test_macos_languages_from_the_global_preferences():
    binary = plistlib.dumps({"AppleLanguages": ["pt-BR", "en-US"], "AppleLocale": "pt_BR"}, fmt=plistlib.FMT_BINARY)
    assert macos_languages(binary) == ["pt-BR", "en-US"]
    assert macos_languages(plistlib.dumps({"AppleLanguages": "de"})) == []
    assert macos_languages(b"bplist00 broken") == []


def test_the_recheck_protocol_is_registered_for_the_user_or_the_machine():
    # As regedit writes it: quotes and backslashes escaped inside the string.
    command = '\\"C:\\\\Program Files\\\\Python311\\\\pythonw.exe\\" -m clientcheck login --force'
    user = _registry("[HKEY_CURRENT_USER\\Software\\Classes\\clientcheck\\shell\\open\\command]", f'@="{command}"')
    assert recheck_registered(user)
    machine = _registry("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\clientcheck\\shell\\open\\command]", f'@="{command}"')
    assert recheck_registered(machine)
    assert not recheck_registered(_registry("[HKEY_CURRENT_USER\\Software\\Classes\\clientcheck]"))
