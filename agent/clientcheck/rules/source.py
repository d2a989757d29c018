"""Where a rule file comes from, and what happens when the requested one cannot be used."""

from __future__ import annotations

import os

from clientcheck import DATA_DIR
from clientcheck import dates as dt
from clientcheck.digest import sha256_hex
from clientcheck.errors import ClientcheckError, RulesError
from clientcheck.model import RuleSet, RulesInfo
from clientcheck.record import Record
from clientcheck.rules.validate import InvalidRuleFileError, parse_rules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.rules.cache import CachedRules
    from clientcheck.rules.floor import Floor
    from clientcheck.rules.minisign import PublicKey

BUNDLED = "bundled"
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024
MAX_KEY_BYTES = 64 * 1024  # a public key or a .minisig: a few lines


class LoadedRules(Record):
    __slots__ = ("ruleset", "info", "warnings")

    ruleset: RuleSet
    info: RulesInfo
    warnings: tuple[str, ...]

    def __init__(self, ruleset: RuleSet, info: RulesInfo, warnings: tuple[str, ...] = ()) -> None:
        self._set(locals())


def bundled_rules_path() -> str:
    """The rule file the package carries: what a fresh machine is judged by, offline."""
    return os.path.join(DATA_DIR, "default-rules.json")


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
        published_in_future=ruleset.published > today,
    )


def _require_regular_file(path: str) -> None:
    """RulesError unless ``path`` is a regular file (or a link to one): a missing file, a folder, a FIFO
    (which would hang the run) or a device is no rule file."""
    from clientcheck.reading import kind_of

    hint = "--rules takes a rule file or an https:// URL; without it, the configured or bundled rules are used"
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise RulesError(path, [f"cannot read: {error.strerror or error}"], hint=hint) from None
    kind = kind_of(mode)
    if kind is not None:
        raise RulesError(path, [f"{kind}, not a regular file"], hint=hint)


def _public_key(key: str) -> PublicKey:
    """The pinned key: the key as minisign prints it, or a .pub file."""
    from clientcheck.errors import UsageError
    from clientcheck.rules.minisign import SignatureError, parse_public_key

    if not key.strip():
        # Never "no key": an empty value (a variable that was not filled in) must not turn checks off.
        raise UsageError("--rules-key is empty: give the publisher's key, or leave the option out")
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


def _verify(
    source: str, data: bytes, signature: bytes | None, key: PublicKey | None
) -> tuple[str, str] | tuple[None, None]:
    """The signature's text and its trusted comment, when ``key`` is pinned and it signs ``data`` (Nones
    when no key is pinned); RulesError otherwise."""
    if key is None:
        return None, None
    from clientcheck.rules.minisign import SignatureError, verify

    if signature is None:
        raise RulesError(source, ["no signature (.minisig), and a key is pinned"])
    text = signature.decode("utf-8", errors="surrogateescape")  # a trusted comment is checked byte for byte
    try:
        comment = verify(data, text, key)
    except SignatureError as error:
        raise RulesError(source, [f"signature refused: {error}"]) from None
    return text, comment


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
    now: dt.datetime,
    env: Mapping[str, str],
    key: str | None = None,
    ca_bundle: str | None = None,
    cache_folder: str | None = None,
    state_folder: str | None = None,
    named: bool = False,
) -> LoadedRules:
    """The rules to judge by: the requested file or URL, else the last good copy of it, else the bundled
    rules, saying why in ``fallback_reason``.

    A run never fails because a rule file is bad or the network is down: the report says which rules it
    used instead. Only when the bundled file itself is unusable does this raise ``RulesError``, and when
    ``named`` (the source was named for this run, on the command line) is a local path that is not a
    regular file: a typo must not have the machine judged by rules nobody chose. A source from the
    configuration or a policy (a share not mounted yet at login) still falls back, as a URL does.

    ``cache_folder`` and ``state_folder`` (where the rollback floor is kept) default to the ones ``env``
    names: the user's, or the machine's for root; ``state_folder=""`` keeps no floor apart from the cache
    (said in a warning). ``now`` stamps what is cached and accepted.
    """
    warnings: list[str] = []
    fallback: str | None = None
    if requested is not None and requested != BUNDLED:
        if named and "://" not in requested:
            _require_regular_file(requested)
        public_key = _public_key(key) if key is not None else None
        try:
            if "://" in requested:
                folders = (cache_folder, state_folder)
                return _load_url(requested, today, public_key, ca_bundle, now, env, folders, warnings)
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
    now: dt.datetime,
    env: Mapping[str, str],
    folders: tuple[str | None, str | None],
    warnings: list[str],
) -> LoadedRules:
    from clientcheck.net.urls import URLError, check
    from clientcheck.rules.cache import open_cache_folder, read_cached
    from clientcheck.rules.fetch import FetchError

    try:
        check(url)  # before anything is read or kept for it
    except URLError as refused:
        raise RulesError(url, [str(refused)]) from None
    keeper = _FloorKeeper(url, key, folders[1], env, warnings)
    folder, notes = open_cache_folder(folders[0], env)
    warnings.extend(notes)
    cached = read_cached(url, folder) if folder is not None else None
    floor = keeper.floor(cached)
    good: tuple[RuleSet, bytes] | None = None
    if cached is not None:
        try:  # the cache is ours, but it is checked like anything else before it is trusted
            ruleset = parse_rules(cached.body)
            signature = cached.signature.encode("utf-8", "surrogateescape") if cached.signature else None
            _check_bound(url, ruleset, _verify(url, cached.body, signature, key)[1])
            _check_floor(url, ruleset, cached.body, floor)
            good = ruleset, cached.body
        except (InvalidRuleFileError, RulesError, ValueError):
            good = None
    try:
        ruleset, data = _fetch_newer(url, cached if good else None, good, key, ca_bundle, now, folder, floor, warnings)
    except (FetchError, RulesError) as error:
        reason = error.message if isinstance(error, RulesError) else str(error)
        reason = reason.removeprefix(f"{url}: ")
        if good is None or cached is None:
            raise RulesError(url, [reason]) from None
        fallback = f"{reason}; using the copy cached on {cached.fetched_at[:10]}"
        warnings.append(fallback)
        keeper.accepted(good[0], good[1], now)
        return LoadedRules(good[0], _info(good[0], good[1], url, today, fallback), tuple(warnings))
    keeper.accepted(ruleset, data, now)
    return LoadedRules(ruleset, _info(ruleset, data, url, today, None), tuple(warnings))


class _FloorKeeper:
    """The rollback floor of one address (and its pinned key), from the state folder (``floor``)."""

    def __init__(
        self, url: str, key: PublicKey | None, folder: str | None, env: Mapping[str, str], warnings: list[str]
    ) -> None:
        from clientcheck.folders import own_folder, state_file
        from clientcheck.rules import floor

        self.url, self.warnings = url, warnings
        self.names = floor.names(url, key)
        self.folder = floor.state_dir(env) if folder is None else (folder or None)
        self.kept: dict[str, floor.Floor] = {}
        if self.folder is None:
            warnings.append(
                "no state folder (the environment names no home folder): the rollback floor is only the "
                "cached copy's serial"
            )
            return
        try:
            warnings.extend(own_folder(self.folder, "state folder", ours=state_file))
        except ClientcheckError as refused:
            # No floor can be kept, so no fetched file can be shown not to be a rollback: none is used.
            raise RulesError(url, [f"{refused.message}, so the rollback floor cannot be kept"]) from None
        try:
            self.kept = floor.read_floors(self.folder)
        except floor.DamagedFloorError as damaged:
            warnings.append(f"{damaged}: written anew; the rollback floor starts again from the cached copy")

    def floor(self, cached: CachedRules | None) -> Floor | None:
        """The highest serial accepted for this address or key, here or in the cache (which carries the
        floor over from before it was kept apart, and survives a damaged floor file)."""
        from clientcheck.rules.floor import Floor, highest

        best = highest(self.kept, self.names)
        if cached is not None and (best is None or cached.serial > best.serial):
            best = Floor(cached.serial, sha256_hex(cached.body))
        return best

    def accepted(self, ruleset: RuleSet, data: bytes, now: dt.datetime) -> None:
        from clientcheck.rules.floor import Floor, raise_floors

        if self.folder is None:
            return
        try:
            raise_floors(self.folder, self.names, Floor(ruleset.serial, sha256_hex(data), self.url, now.isoformat()))
        except (OSError, ClientcheckError) as error:
            self.warnings.append(f"{self.url}: could not record the rollback floor ({error})")


def _check_floor(url: str, ruleset: RuleSet, data: bytes, floor: Floor | None) -> None:
    """A serial below the floor, or the floor's serial on other content, is a rollback."""
    if floor is None:
        return
    if ruleset.serial < floor.serial or (
        ruleset.serial == floor.serial and floor.sha256 is not None and floor.sha256 != sha256_hex(data)
    ):
        newer = f"serial {ruleset.serial} is not newer than serial {floor.serial} already accepted"
        raise RulesError(url, [f"{newer}: refused as a rollback"])


def _check_bound(url: str, ruleset: RuleSet, comment: str | None) -> None:
    """A file that names where it is published, or whose signature names its file, is used only from
    there: another file signed by the same key (a pilot's, served at the production address) is refused.
    Compared with the address asked for, not where a redirect led."""
    from clientcheck.net.urls import URLError, file_name, normalised
    from clientcheck.rules.minisign import comment_file_name

    if ruleset.url is not None:
        try:
            named = normalised(ruleset.url)
        except URLError:
            named = None
        if named != normalised(url):
            raise RulesError(url, [f"the file says it is published at {ruleset.url}: refused here"])
    signed = comment_file_name(comment) if comment is not None else None
    if signed is not None and signed != file_name(url):
        raise RulesError(url, [f"the signature is for the file {signed!r}, not {file_name(url)!r}: refused"])


def _fetch_newer(
    url: str,
    cached: CachedRules | None,
    good: tuple[RuleSet, bytes] | None,
    key: PublicKey | None,
    ca_bundle: str | None,
    now: dt.datetime,
    folder: str | None,
    floor: Floor | None,
    warnings: list[str],
) -> tuple[RuleSet, bytes]:
    """The rules at ``url`` (the cached copy when the server says it has not changed), checked, verified,
    and cached. Raises FetchError or RulesError for anything not to be trusted."""
    from clientcheck.rules.cache import write_cached
    from clientcheck.rules.fetch import FetchError, fetch

    if ca_bundle is not None:
        # The client checks the bundle as well (requests opens it with a plain open(): a FIFO there would
        # hang the run); checked here first, a refusal names the option the user gave.
        from clientcheck.net.https import MAX_CA_BUNDLE_BYTES
        from clientcheck.reading import FileProblem, check_file

        try:
            check_file(ca_bundle, MAX_CA_BUNDLE_BYTES, settings=True)  # who writes it may intercept
        except FileProblem as problem:
            raise FetchError(f"--ca-bundle {ca_bundle}", problem.reason) from None
    got = fetch(
        url,
        etag=cached.etag if cached else None,
        last_modified=cached.last_modified if cached else None,
        ca_bundle=ca_bundle,
    )
    if got.body is None:
        if good is None:
            raise FetchError(url, "answered 304 Not Modified, but no good copy is cached")
        return good
    try:
        ruleset = parse_rules(got.body)
    except InvalidRuleFileError as invalid:
        raise RulesError(url, invalid.problems) from None
    signature_text = comment = None
    if key is not None:
        signature = fetch(url + ".minisig", ca_bundle=ca_bundle, max_bytes=MAX_KEY_BYTES, deadline=10.0).body
        signature_text, comment = _verify(url, got.body, signature, key)
    _check_bound(url, ruleset, comment)
    _check_floor(url, ruleset, got.body, floor)
    if folder is not None:
        try:
            write_cached(
                url,
                got.body,
                serial=ruleset.serial,
                etag=got.etag,
                last_modified=got.last_modified,
                signature=signature_text,
                fetched_at=now.isoformat(),
                folder=folder,
            )
        except (OSError, ClientcheckError) as error:
            warnings.append(f"{url}: could not cache the rules ({error})")
    return ruleset, got.body
