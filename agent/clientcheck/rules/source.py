"""Where a rule file comes from, and what happens when the requested one cannot be used."""

from __future__ import annotations

import os

from clientcheck import dates as dt
from clientcheck.errors import ClientcheckError, RulesError
from clientcheck.model import RuleSet, RulesInfo
from clientcheck.record import Record
from clientcheck.rules.validate import InvalidRuleFileError, parse_rules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.rules.cache import CachedRules
    from clientcheck.rules.minisign import PublicKey

BUNDLED = "bundled"
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024
MAX_KEY_BYTES = 64 * 1024  # a public key or a .minisig: a few lines
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024  # the system's whole bundle is about 200 KiB


class LoadedRules(Record):
    __slots__ = ("ruleset", "info", "warnings")

    ruleset: RuleSet
    info: RulesInfo
    warnings: tuple[str, ...]

    def __init__(self, ruleset: RuleSet, info: RulesInfo, warnings: tuple[str, ...] = ()) -> None:
        self._set(locals())


def bundled_rules_path() -> str:
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    installed = os.path.join(package_dir, "data", "default-rules.json")
    if os.path.isfile(installed):
        return installed
    # Running from a source checkout (not an installed wheel): the file sits at the top of the repository.
    return os.path.join(os.path.dirname(os.path.dirname(package_dir)), "rules", "default.json")


def sha256_hex(data: bytes) -> str:
    # hashlib loads OpenSSL, a few milliseconds of every run; CPython's own SHA-256 module is built in.
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]  # CPython 3.11
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment,unused-ignore]
    digest: str = sha256(data).hexdigest()
    return digest


def read_rule_file(path: str) -> tuple[RuleSet, bytes]:
    """Read and validate one rule file. Raises ``RulesError`` naming the file and every problem.

    Only a regular file is read: a FIFO or device given as ``--rules`` (or to ``rules validate``) is refused
    at once instead of hanging the run or reading without end."""
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(path, MAX_RULE_FILE_BYTES)
    except FileProblem as problem:
        raise RulesError(path, [problem.reason]) from None
    try:
        return parse_rules(data), data
    except InvalidRuleFileError as invalid:
        raise RulesError(path, invalid.problems) from None


def _info(ruleset: RuleSet, data: bytes, source: str, today: dt.date, fallback: str | None) -> RulesInfo:
    return RulesInfo(
        source=source,
        serial=ruleset.serial,
        sha256=sha256_hex(data),
        publisher=ruleset.publisher,
        published=ruleset.published,
        expires=ruleset.expires,
        stale=today > ruleset.expires,
        fallback_reason=fallback,
    )


def _public_key(key: str) -> PublicKey:
    """The pinned key: the key as minisign prints it, or a .pub file."""
    from clientcheck.errors import UsageError
    from clientcheck.rules.minisign import SignatureError, parse_public_key

    text = key
    if os.path.exists(key):  # a file (a FIFO or a folder there is refused, not taken for the key itself)
        from clientcheck.reading import FileProblem, read_text

        try:
            text = read_text(key, MAX_KEY_BYTES)
        except FileProblem as problem:
            raise UsageError(f"--rules-key {key}: {problem.reason}") from None
    try:
        return parse_public_key(text)
    except SignatureError as error:
        raise UsageError(f"--rules-key: {error}") from None


def _verify(source: str, data: bytes, signature: bytes | None, key: PublicKey | None) -> str | None:
    """The signature's text when ``key`` is pinned and it signs ``data``; RulesError otherwise."""
    if key is None:
        return None
    from clientcheck.rules.minisign import SignatureError, verify

    if signature is None:
        raise RulesError(source, ["no signature (.minisig), and a key is pinned"])
    text = signature.decode("utf-8", errors="surrogateescape")  # a trusted comment is checked byte for byte
    try:
        verify(data, text, key)
    except SignatureError as error:
        raise RulesError(source, [f"signature refused: {error}"]) from None
    return text


def _read_local(path: str, key: PublicKey | None) -> tuple[RuleSet, bytes]:
    ruleset, data = read_rule_file(path)
    if key is not None:
        from clientcheck.reading import FileProblem, read_file

        signature: bytes | None = None
        try:
            signature = read_file(path + ".minisig", MAX_KEY_BYTES)
        except FileProblem as problem:
            if not problem.missing:  # a missing one is said by _verify: "no signature"
                raise RulesError(path, [f"{path}.minisig: {problem.reason}"]) from None
        _verify(path, data, signature, key)
    return ruleset, data


def load_rules(
    requested: str | None,
    today: dt.date,
    *,
    key: str | None = None,
    ca_bundle: str | None = None,
    now: dt.datetime | None = None,
    cache_folder: str | None = None,
) -> LoadedRules:
    """The rules to judge by: the requested file or URL, else the last good copy of it, else the bundled
    rules, saying why in ``fallback_reason``.

    A run never fails because a rule file is bad or the network is down: the report says which rules it
    used instead. Only when the bundled file itself is unusable does this raise ``RulesError``.
    """
    warnings: list[str] = []
    fallback: str | None = None
    if requested is not None and requested != BUNDLED:
        public_key = _public_key(key) if key else None
        try:
            if "://" in requested:
                return _load_url(requested, today, public_key, ca_bundle, now, cache_folder, warnings)
            ruleset, data = _read_local(requested, public_key)
            return LoadedRules(ruleset, _info(ruleset, data, requested, today, None))
        except RulesError as error:
            fallback = f"{error.message}; using the bundled rules instead"
            warnings.append(fallback)
    ruleset, data = read_rule_file(bundled_rules_path())
    return LoadedRules(ruleset, _info(ruleset, data, BUNDLED, today, fallback), tuple(warnings))


def _load_url(
    url: str,
    today: dt.date,
    key: PublicKey | None,
    ca_bundle: str | None,
    now: dt.datetime | None,
    folder: str | None,
    warnings: list[str],
) -> LoadedRules:
    from clientcheck.rules.cache import read_cached
    from clientcheck.rules.fetch import FetchError

    cached = read_cached(url, folder)
    good: tuple[RuleSet, bytes] | None = None
    if cached is not None:
        try:  # the cache is ours, but it is checked like anything else before it is trusted
            good = parse_rules(cached.body), cached.body
            signature = cached.signature.encode("utf-8", "surrogateescape") if cached.signature else None
            _verify(url, cached.body, signature, key)
        except (InvalidRuleFileError, RulesError, ValueError):
            good = None
    try:
        ruleset, data = _fetch_newer(url, cached if good else None, good, key, ca_bundle, now, folder, warnings)
    except (FetchError, RulesError) as error:
        reason = error.message if isinstance(error, RulesError) else str(error)
        reason = reason.removeprefix(f"{url}: ")
        if good is None or cached is None:
            raise RulesError(url, [reason]) from None
        fallback = f"{reason}; using the copy cached on {cached.fetched_at[:10]}"
        warnings.append(fallback)
        return LoadedRules(good[0], _info(good[0], good[1], url, today, fallback), tuple(warnings))
    return LoadedRules(ruleset, _info(ruleset, data, url, today, None), tuple(warnings))


def _fetch_newer(
    url: str,
    cached: CachedRules | None,
    good: tuple[RuleSet, bytes] | None,
    key: PublicKey | None,
    ca_bundle: str | None,
    now: dt.datetime | None,
    folder: str | None,
    warnings: list[str],
) -> tuple[RuleSet, bytes]:
    """The rules at ``url`` (the cached copy when the server says it has not changed), checked, verified,
    and cached. Raises FetchError or RulesError for anything not to be trusted."""
    from clientcheck.rules.cache import write_cached
    from clientcheck.rules.fetch import FetchError, fetch

    if ca_bundle is not None:
        # requests opens the bundle itself, with a plain open(): a FIFO there would hang the run.
        from clientcheck.reading import FileProblem, check_file

        try:
            check_file(ca_bundle, MAX_CA_BUNDLE_BYTES)
        except FileProblem as problem:
            raise FetchError(f"--ca-bundle {ca_bundle}: {problem.reason}") from None
    got = fetch(
        url,
        etag=cached.etag if cached else None,
        last_modified=cached.last_modified if cached else None,
        ca_bundle=ca_bundle,
    )
    if got.body is None:
        if good is None:
            raise FetchError(f"{url}: answered 304 Not Modified, but no good copy is cached")
        return good
    try:
        ruleset = parse_rules(got.body)
    except InvalidRuleFileError as invalid:
        raise RulesError(url, invalid.problems) from None
    signature_text = None
    if key is not None:
        signature = fetch(url + ".minisig", ca_bundle=ca_bundle, max_bytes=64 * 1024, deadline=10.0).body
        signature_text = _verify(url, got.body, signature, key)
    if good is not None and (
        ruleset.serial < good[0].serial or (ruleset.serial == good[0].serial and got.body != good[1])
    ):
        raise RulesError(
            url,
            [
                f"serial {ruleset.serial} is not newer than serial {good[0].serial} already "
                "accepted: refused as a rollback"
            ],
        )
    try:
        write_cached(
            url,
            got.body,
            serial=ruleset.serial,
            etag=got.etag,
            last_modified=got.last_modified,
            signature=signature_text,
            fetched_at=(now or dt.datetime.now(dt.timezone.utc)).isoformat(),
            folder=folder,
        )
    except (OSError, ClientcheckError) as error:
        warnings.append(f"{url}: could not cache the rules ({error})")
    return ruleset, got.body
