"""The language a run speaks: the one asked for (``--lang``, the ``report.language`` setting), else the
locale of the environment as GNU gettext reads it, else the user's interface language on Windows and macOS,
else English.

Asked for, a language clientcheck has no messages in is a mistake someone can fix: one warning, and English.
From the environment it is not (a locale the machine was installed with): English, silently, since fleet
tools count any output on stderr as a failed run (Intune does).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

ENGLISH = "en"


def normal_tag(text: str) -> str | None:
    """A BCP 47 language tag in its usual case (``de``, ``de-AT``, ``pt-BR``, ``zh-Hant-TW``), from a tag or
    a POSIX locale name without its codeset (``de_DE``); None when ``text`` is not one."""
    if not text.isascii() or len(text) > 35:
        return None
    language, *rest = text.replace("_", "-").split("-")
    if not (2 <= len(language) <= 3 and language.isalpha()) or len(rest) > 3:
        return None
    parts = [language.lower()]
    for part in rest:
        if not (2 <= len(part) <= 8 and part.isalnum()):
            return None
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script: Hant, Latn
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            parts.append(part.upper())  # a region: AT, BR, 419
        else:
            parts.append(part.lower())
    return "-".join(parts)


def primary(tag: str) -> str:
    """The language of a tag, without region or script: ``pt-BR`` -> ``pt``."""
    return tag.split("-")[0]


def locale_tag(value: str) -> str | None:
    """The language tag of a POSIX locale name (``de_DE.UTF-8@euro`` -> ``de-DE``); None for the C and
    POSIX locales, which are English by definition, and for what is not a locale name."""
    name = value.split(".")[0].split("@")[0]
    if name in ("", "C", "POSIX"):
        return None
    return normal_tag(name)


def environment_languages(env: Mapping[str, str]) -> list[str]:
    """The languages the environment asks for, in order, as GNU gettext reads them: the locale of
    messages is the first of LC_ALL, LC_MESSAGES and LANG that is set; when it is a real locale (not C or
    POSIX, nor unset), LANGUAGE, a colon-separated list, takes precedence over it."""
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    tag = locale_tag(locale)
    if tag is None:
        return []
    listed = [found for part in env.get("LANGUAGE", "").split(":") if (found := locale_tag(part))]
    return listed or [tag]


def catalog_languages() -> frozenset[str]:
    """The languages clientcheck has messages in (its compiled catalogs), looked at only when asked: an
    English run never is."""
    from clientcheck.i18n import available

    return available()


def choose_language(
    asked: str | None,
    env: Mapping[str, str],
    available: Callable[[], Iterable[str]],
    warn: Callable[[str], None],
    interface_languages: Callable[[], Iterable[str]] | None = None,
) -> str:
    """The tag of the language to speak (``de-AT``: the messages of ``de``, and Austria's way with dates).

    ``asked`` is the language named on the command line or in the settings; ``available`` gives the
    languages that have messages (read only when a language other than English is wanted);
    ``interface_languages`` the user's interface languages, asked only when the environment names no
    locale at all (a Windows session, a macOS launch agent)."""
    if asked:
        tag = normal_tag(asked.strip())
        if tag is None:
            warn(f"language {asked!r} is not a language tag (like de or pt-BR): the messages are in English")
            return ENGLISH
        if primary(tag) == ENGLISH or primary(tag) in set(available()):
            return tag
        known = ", ".join(sorted(set(available()) | {ENGLISH}))
        warn(f"no messages in language {asked!r} (there are: {known}): the messages are in English")
        return ENGLISH
    wanted = environment_languages(env)
    if not wanted and interface_languages is not None:
        wanted = [found for text in interface_languages() if (found := normal_tag(text))]
    for tag in wanted:
        if primary(tag) == ENGLISH or primary(tag) in set(available()):
            return tag
    return ENGLISH
