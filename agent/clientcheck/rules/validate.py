"""Parse and validate a rule file (format ``clientcheck.rules/1``) into a ``RuleSet``.

Pure: bytes in, a RuleSet or every problem out. Like packaging's validators it collects all problems
instead of stopping at the first, each with its location (``rules[3].minimum: '1..2' is not a version``),
and the file is accepted whole or not at all.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.cjson import loads
from clientcheck.model import PLATFORMS, Grace, Rule, RuleSet, Step, Unsupported
from clientcheck.version import Version, VersionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from clientcheck.model import LocalizedText, Platform, Severity, StepLevel

    T = TypeVar("T")

SCHEMA_ID = "clientcheck.rules/1"
MAX_RULES = 10_000
# The largest serial: 2**53 - 1, the largest integer every JSON reader holds exactly (JavaScript, jq and
# PowerShell read numbers as doubles). Room for any date-like serial (2026112501, even 20261125093000),
# and a file cannot claim a serial so large that every later one looks like a rollback.
MAX_SERIAL = 2**53 - 1

# The published JSON Schema (data/rules.schema.json) states these as regular expressions; here they are
# plain string checks, which cost nothing to set up at every start.
_ID_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_REST = _ID_FIRST + "._-"


def _is_identifier(text: str, max_length: int) -> bool:
    """``[a-z0-9][a-z0-9._-]{0,max_length-1}``"""
    # strip() with a set of characters leaves nothing when every character is in it: the test runs in C.
    return 0 < len(text) <= max_length and text[0] in _ID_FIRST and not text.strip(_ID_REST)


_GOOD_TAGS: set[str] = set()  # a file names the same few tags again and again: each is checked once a run


def _is_language_tag(tag: str) -> bool:
    """``[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8}){0,3}``: ``en``, ``pt-BR``, ``zh_Hant_TW``."""
    if tag in _GOOD_TAGS:
        return True
    if not tag.isascii():
        return False
    first, *rest = tag.replace("_", "-").split("-")
    good = (
        2 <= len(first) <= 3
        and first.isalpha()
        and len(rest) <= 3
        and all(2 <= len(part) <= 8 and part.isalnum() for part in rest)
    )
    if good:
        _GOOD_TAGS.add(tag)
    return good


def _is_iso_date(text: str) -> bool:
    """``\\d{4}-\\d{2}-\\d{2}`` with ASCII digits."""
    digits = text[:4] + text[5:7] + text[8:]
    return len(text) == 10 and text[4] == text[7] == "-" and digits.isascii() and digits.isdigit()


def _is_url(text: str) -> bool:
    """``https?://[^\\s]{1,2000}``"""
    rest = text[8:] if text.startswith("https://") else text[7:] if text.startswith("http://") else ""
    return 0 < len(rest) <= 2000 and rest.split() == [rest]  # no whitespace anywhere, checked in C


_TOP_KEYS = {"schema", "publisher", "serial", "published", "expires", "rules", "description", "url", "comment"}
_RULE_KEYS = {
    "id",
    "product",
    "track",
    "platforms",
    "minimum",
    "severity",
    "grace",
    "unsupported",
    "message",
    "url",
    "source",
    "comment",
}
_GRACE_KEYS = {"since", "days"}
_UNSUPPORTED_KEYS = {"below", "since", "message", "url"}
_SOURCE_KEYS = {"url", "date", "note"}
# Stepped warnings: an extension key, so that a file using them still loads in agents that predate them
# (every version rejects unknown keys but ignores "x-" ones; those agents say "due" the whole grace period).
STEPS_KEY = "x-clientcheck-steps"
_STEP_KEYS = {"days_left", "level"}
STEP_LEVELS: tuple[StepLevel, ...] = ("quiet", "notice", "warning")
MAX_STEPS = 10


class InvalidRuleFileError(ValueError):
    """Every problem found in a rule file, each prefixed with its location."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}" if where else problem)

    def check_keys(self, where: str, obj: dict[str, Any], allowed: set[str]) -> None:
        # Unknown keys are errors so a typo ("minimun") cannot silently drop a rule's meaning; publishers
        # who need their own fields prefix them with "x-".
        for key in obj:
            if key not in allowed and not key.startswith("x-"):
                self.add(_join(where, key), "unknown key (extensions must start with 'x-')")

    def field(
        self, where: str, obj: dict[str, Any], key: str, convert: Callable[[str, Any], T], *, required: bool
    ) -> T | None:
        # ``key`` is one of ours (the file's own keys are checked by check_keys): no need to make it visible.
        path = f"{where}.{key}" if where else key
        if key not in obj:
            if required:
                self.add(path, "is required")
            return None
        try:
            return convert(path, obj[key])
        except _ProblemError as problem:
            self.add(path, str(problem))
            return None


class _ProblemError(Exception):
    pass


def _join(where: str, key: str) -> str:
    key = _visible(key)  # a key is the file's own text: an ESC sequence in it must not act on the screen
    return f"{where}.{key}" if where else key


def _visible(text: str) -> str:
    """``text`` (the file's own, quoted in a problem) with what a terminal would act on rather than show
    written out, as every format writes it (``clientcheck.visible``)."""
    if text.isprintable():
        return text
    from clientcheck.visible import quoted

    return quoted(text)


def _describe(value: Any) -> str:
    try:
        import json  # only to describe a bad value

        text = repr(value) if isinstance(value, str) else _visible(json.dumps(value, ensure_ascii=False))
    except RecursionError:  # json.loads accepts slightly deeper nesting than json.dumps can write back
        text = f"a deeply nested {'list' if isinstance(value, list) else 'object'}"
    return text if len(text) <= 60 else text[:57] + "..."


def _string(_: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _ProblemError(f"must be a non-empty string, not {_describe(value)}")
    problem = _text_problem(value)
    if problem:
        raise _ProblemError(problem)
    return value


def _text_problem(text: str) -> str | None:
    """Why ``text`` cannot be shown to a person: a lone surrogate, or a character that a terminal acts on or
    that reorders what is read (ESC, BEL, CR, C1 controls, bidi overrides and isolates). Newlines, tabs and
    the bidi marks (U+200E, U+200F, U+061C) are text."""
    if text.isprintable():
        return None  # the usual case, decided in C: no control, format or surrogate character at all
    if not _is_unicode(text):
        return "contains a lone surrogate escape (\\ud800-\\udfff): not valid Unicode text"
    return _unsafe(text)


def _unsafe(text: str) -> str | None:
    if text.isprintable():
        return None  # the usual case, decided in C: no control or format character at all
    from clientcheck.visible import unsafe_characters  # only for text with a newline, a mark, or worse

    unsafe = unsafe_characters(text)
    return f"control character{'s' if len(unsafe) > 1 else ''} {', '.join(unsafe)}" if unsafe else None


def _is_unicode(text: str) -> bool:
    """False for JSON's lone surrogate escapes ("\\ud800"), which no file or terminal can show."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _identifier(max_length: int, what: str) -> Callable[[str, Any], str]:
    def convert(where: str, value: Any) -> str:
        text = _string(where, value)
        if not _is_identifier(text, max_length):
            raise _ProblemError(f"{_describe(value)} is not a valid {what}")
        return text

    return convert


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str, Any], int]:
    def convert(_: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _ProblemError(f"must be an integer, not {_describe(value)}")
        if value < minimum:
            raise _ProblemError(f"must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            shown = str(value) if len(str(value)) <= 30 else f"a {len(str(value))}-digit number"
            raise _ProblemError(f"must be at most {maximum}, not {shown}")
        return value

    return convert


_RULE_ID = _identifier(64, "rule id")
_TRACK = _identifier(32, "track name")
_NON_NEGATIVE = _integer(0)
_SERIAL = _integer(0, MAX_SERIAL)


def _date(_: str, value: Any) -> dt.date:
    if not isinstance(value, str) or not _is_iso_date(value):
        raise _ProblemError(f"{_describe(value)} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _ProblemError(f"{_describe(value)} is not a real date") from None


def _version(_: str, value: Any) -> Version:
    if not isinstance(value, str):
        raise _ProblemError(f"must be a version string, not {_describe(value)}")
    try:
        return Version(value)
    except VersionError:
        raise _ProblemError(f"{_describe(value)} is not a version") from None


def _step_level(_: str, value: Any) -> StepLevel:
    for level in STEP_LEVELS:
        if value == level:
            return level
    raise _ProblemError(f"must be one of {', '.join(STEP_LEVELS)}, not {_describe(value)}")


def _url(_: str, value: Any) -> str:
    if not isinstance(value, str) or not _is_url(value):
        raise _ProblemError(f"{_describe(value)} is not an http(s) URL")
    problem = _unsafe(value)
    if problem:
        # Links are shown and clicked: an ESC or an override in one is never part of a real address.
        raise _ProblemError(problem)
    return value


class RuleParser:
    def __init__(self) -> None:
        self.out = _Collector()

    def localized(self, where: str, value: Any) -> LocalizedText:
        if isinstance(value, str):
            return (("en", _string(where, value)),)
        if not isinstance(value, dict) or not value:
            raise _ProblemError(f"must be a string or an object of language tag -> text, not {_describe(value)}")
        pairs = tuple(value.items())
        # The usual message (the bundled rules have 25, in 7 languages each): tags seen before, printable text.
        if all(tag in _GOOD_TAGS and type(text) is str and text.isprintable() and text.strip() for tag, text in pairs):
            return pairs
        checked: list[tuple[str, str]] = []
        for tag, text in pairs:
            if not _is_language_tag(tag):
                self.out.add(_join(where, tag), "is not a language tag (like 'en' or 'pt-BR')")
            elif not isinstance(text, str) or not text.strip():
                self.out.add(_join(where, tag), f"must be a non-empty string, not {_describe(text)}")
            elif problem := _text_problem(text):
                self.out.add(_join(where, tag), problem)
            else:
                checked.append((tag, text))
        return tuple(checked)

    def products(self, where: str, value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise _ProblemError(f"must be a product id or a non-empty list of them, not {_describe(value)}")
        products: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not _is_identifier(item, 64):
                self.out.add(
                    f"{where}[{index}]" if isinstance(value, list) else where, f"{_describe(item)} is not a product id"
                )
            else:
                products.append(item)
        return tuple(products)

    def platforms(self, where: str, value: Any) -> tuple[Platform, ...]:
        if not isinstance(value, list) or not value:
            raise _ProblemError(f"must be a non-empty list of {', '.join(PLATFORMS)}, not {_describe(value)}")
        found: list[Platform] = []
        for index, item in enumerate(value):
            if item in PLATFORMS:
                found.append(item)
            else:
                self.out.add(f"{where}[{index}]", f"{_describe(item)} is not one of {', '.join(PLATFORMS)}")
        return tuple(found)

    def severity(self, _: str, value: Any) -> Severity:
        if value == "required":
            return "required"
        if value == "recommended":
            return "recommended"
        raise _ProblemError(f"must be 'required' or 'recommended', not {_describe(value)}")

    def grace(self, where: str, value: Any) -> Grace | None:
        if not isinstance(value, dict):
            raise _ProblemError(f"must be an object with 'since' and 'days', not {_describe(value)}")
        self.out.check_keys(where, value, _GRACE_KEYS)
        since = self.out.field(where, value, "since", _date, required=True)
        days = self.out.field(where, value, "days", _NON_NEGATIVE, required=True)
        if since is None or days is None:
            return None
        grace = Grace(since=since, days=days)
        try:
            grace.until  # noqa: B018 - the evaluator computes it; a huge "days" must fail here, not there
        except OverflowError:
            raise _ProblemError(f"{since} plus {days} days is past {dt.date.max}") from None
        return grace

    def unsupported(self, where: str, value: Any) -> Unsupported:
        if not isinstance(value, dict):
            raise _ProblemError(f"must be an object, not {_describe(value)}")
        self.out.check_keys(where, value, _UNSUPPORTED_KEYS)
        return Unsupported(
            below=self.out.field(where, value, "below", _version, required=False),
            since=self.out.field(where, value, "since", _date, required=False),
            message=self.out.field(where, value, "message", self.localized, required=False) or (),
            url=self.out.field(where, value, "url", _url, required=False),
        )

    def steps(self, where: str, value: Any) -> tuple[Step, ...]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_STEPS:
            raise _ProblemError(f"must be a list of 1 to {MAX_STEPS} steps, not {_describe(value)}")
        steps: list[Step] = []
        seen: dict[int, int] = {}
        for index, raw in enumerate(value):
            at = f"{where}[{index}]"
            if not isinstance(raw, dict):
                self.out.add(at, f"must be an object with 'days_left' and 'level', not {_describe(raw)}")
                continue
            self.out.check_keys(at, raw, _STEP_KEYS)
            days = self.out.field(at, raw, "days_left", _integer(1, 36500), required=True)
            level = self.out.field(at, raw, "level", _step_level, required=True)
            if days is not None and days in seen:
                self.out.add(_join(at, "days_left"), f"{days} is already the days_left of {where}[{seen[days]}]")
            elif days is not None and level is not None:
                seen[days] = index
                steps.append(Step(days, level))
        return tuple(steps)

    def source(self, where: str, value: Any) -> None:
        # Where a minimum came from: kept for people reading the file, not used by the agent.
        if isinstance(value, str):
            _string(where, value)
            return
        if not isinstance(value, dict):
            raise _ProblemError(f"must be a string or an object with url, date, note, not {_describe(value)}")
        self.out.check_keys(where, value, _SOURCE_KEYS)
        self.out.field(where, value, "url", _url, required=False)
        self.out.field(where, value, "date", _date, required=False)
        self.out.field(where, value, "note", _string, required=False)

    def rule(self, where: str, value: Any) -> Rule | None:
        if not isinstance(value, dict):
            self.out.add(where, f"must be an object, not {_describe(value)}")
            return None
        before = len(self.out.problems)
        field = self.out.field
        self.out.check_keys(where, value, _RULE_KEYS)
        rule_id = field(where, value, "id", _RULE_ID, required=True)
        products = field(where, value, "product", self.products, required=True)
        minimum = field(where, value, "minimum", _version, required=False)
        unsupported = field(where, value, "unsupported", self.unsupported, required=False)
        grace = field(where, value, "grace", self.grace, required=False)
        rule = Rule(
            id=rule_id or "",
            products=products or (),
            minimum=minimum,
            track=field(where, value, "track", _TRACK, required=False),
            platforms=field(where, value, "platforms", self.platforms, required=False) or (),
            severity=field(where, value, "severity", self.severity, required=False) or "required",
            grace=grace,
            unsupported=unsupported,
            message=field(where, value, "message", self.localized, required=False) or (),
            url=field(where, value, "url", _url, required=False),
            steps=field(where, value, STEPS_KEY, self.steps, required=False),
        )
        field(where, value, "source", self.source, required=False)
        field(where, value, "comment", _string, required=False)
        if "minimum" not in value and "unsupported" not in value:
            self.out.add(where, "needs 'minimum' or 'unsupported' (a rule without either checks nothing)")
        if "grace" in value and "minimum" not in value:
            self.out.add(_join(where, "grace"), "only applies to a 'minimum'")
        if (
            minimum is not None
            and unsupported is not None
            and unsupported.below is not None
            and unsupported.below > minimum
        ):
            self.out.add(_join(where, "unsupported.below"), f"'{unsupported.below}' is above the minimum '{minimum}'")
        return rule if len(self.out.problems) == before else None

    def ruleset(self, document: Any) -> RuleSet:
        if not isinstance(document, dict):
            raise InvalidRuleFileError([f"the file must hold a JSON object, not {type(document).__name__}"])
        out = self.out
        out.check_keys("", document, _TOP_KEYS)
        schema = document.get("schema")
        if schema != SCHEMA_ID:
            out.add(
                "schema",
                f"must be {SCHEMA_ID!r}, not {_describe(schema)}"
                if "schema" in document
                else f"is required (and must be {SCHEMA_ID!r})",
            )
        publisher = out.field("", document, "publisher", _string, required=True)
        serial = out.field("", document, "serial", _SERIAL, required=True)
        published = out.field("", document, "published", _date, required=True)
        expires = out.field("", document, "expires", _date, required=True)
        out.field("", document, "description", _string, required=False)
        url = out.field("", document, "url", _url, required=False)
        out.field("", document, "comment", _string, required=False)
        steps = out.field("", document, STEPS_KEY, self.steps, required=False)
        if published and expires and expires < published:
            out.add("expires", f"{expires} is before published {published}")

        rules: list[Rule] = []
        raw_rules = document.get("rules")
        if "rules" not in document:
            out.add("rules", "is required")
        elif not isinstance(raw_rules, list):
            out.add("rules", f"must be a list, not {_describe(raw_rules)}")
        elif len(raw_rules) > MAX_RULES:
            out.add("rules", f"has {len(raw_rules)} rules; at most {MAX_RULES} are allowed")
        else:
            seen: dict[str, int] = {}
            for index, raw in enumerate(raw_rules):
                rule = self.rule(f"rules[{index}]", raw)
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    if raw["id"] in seen:
                        out.add(f"rules[{index}].id", f"{raw['id']!r} is already the id of rules[{seen[raw['id']]}]")
                    else:
                        seen[raw["id"]] = index
                if rule is not None:
                    rules.append(rule)

        if out.problems or publisher is None or serial is None or published is None or expires is None:
            raise InvalidRuleFileError(out.problems)
        return RuleSet(
            publisher=publisher,
            serial=serial,
            published=published,
            expires=expires,
            rules=tuple(rules),
            url=url,
            steps=steps,
        )


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


class _DuplicateKeyError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # Python's json module reads NaN, Infinity and -Infinity; JSON (and every other reader of the file) does not.
    raise ValueError(f"{name} is not a JSON value")


def parse_rules(data: bytes) -> RuleSet:
    """Parse rule-file bytes. Raises ``InvalidRuleFileError`` listing every problem."""
    try:
        # A byte-order mark (Windows editors write one) is dropped by hand: the utf-8-sig codec is one more
        # module to import at every start.
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRuleFileError([f"byte {error.start + bom}: not UTF-8 text"]) from None
    try:
        document = loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except _DuplicateKeyError as error:
        raise InvalidRuleFileError([f"duplicate key {str(error)!r}: a key may appear only once per object"]) from None
    except RecursionError:
        raise InvalidRuleFileError(["invalid JSON: nested too deeply"]) from None
    except ValueError as error:
        import json  # for its error type: a file that is not JSON (see cjson)

        if isinstance(error, json.JSONDecodeError):
            raise InvalidRuleFileError(
                [f"line {error.lineno} column {error.colno}: invalid JSON: {error.msg}"]
            ) from None
        # NaN/Infinity, or an integer longer than int() will convert (4300 digits)
        raise InvalidRuleFileError([f"invalid JSON: {error}"]) from None
    return RuleParser().ruleset(document)
