"""The published-rules trust chain, against a real HTTP server on 127.0.0.1 and real minisign keys: which
addresses are fetched, the cache folder trusted only when it is the user's, the rollback floor kept in the
state folder (per key, per normalised address) whatever happens to the cache, a file bound to where it was
published, and a pinned key that cannot be empty."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clientcheck import dates as dt
from clientcheck.config import Places
from clientcheck.errors import UsageError
from clientcheck.rules import floor, load_rules, minisign
from clientcheck.rules.validate import MAX_SERIAL
from test_rules_fetch import RULES, _json, _with_serial, server  # noqa: F401 - server is a fixture
from unprivileged import need_root

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
OTHER = 64001  # a uid no account on a test machine has
MINISIGN = shutil.which("minisign")


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, str]:
    """The cache and state folders a run is given (never the host's)."""
    return {"cache_folder": str(tmp_path / "cache"), "state_folder": str(tmp_path / "state")}


def _load(url: str, folders: dict[str, str], **kwargs: object):
    return load_rules(url, TODAY, **{"now": NOW, "env": {}, **folders, **kwargs})  # type: ignore[arg-type]


def _signed(body: bytes, secret: str, comment: str = "timestamp:1764061200\tfile:rules.json\thashed"):
    return 200, {"Content-Type": "text/plain"}, minisign.sign(body, secret, comment).encode()


def _serve(behaviour, path: str, body: bytes, secret: str | None = None, comment: str | None = None) -> None:
    behaviour.routes[path] = _json(body, etag=f'"{len(body)}-{hash(body)}"')
    if secret is not None:
        behaviour.routes[path + ".minisig"] = (
            _signed(body, secret) if comment is None else _signed(body, secret, comment)
        )


def _floors(folders: dict[str, str]) -> dict[str, int]:
    return {name: kept.serial for name, kept in floor.read_floors(folders["state_folder"]).items()}


# Which addresses are fetched (item 15) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("http://127.evil.example:{port}/rules.json", "only https:// is allowed"),
        ("http://evil.example\\@127.0.0.1:{port}/rules.json", "a backslash"),
        ("http://user@127.0.0.1:{port}/rules.json", "user name or password"),
        ("http://127.0.0.1:{port}@evil.example/rules.json", "user name or password"),
    ],
)
def test_an_address_not_judged_this_machine_is_never_asked(server, folders, address: str, reason: str):  # noqa: F811
    base, behaviour = server
    _serve(behaviour, "/rules.json", RULES)
    url = address.format(port=base.rsplit(":", 1)[1])
    loaded = _load(url, folders)
    assert loaded.info.source == "bundled"
    assert reason in (loaded.info.fallback_reason or "")
    assert behaviour.requests == []
    assert not Path(folders["cache_folder"]).exists() and not Path(folders["state_folder"]).exists()


# The cache folder (item 16) --------------------------------------------------------------------------------


def test_a_planted_cache_entry_with_a_huge_serial_is_removed_not_trusted(server, folders):  # noqa: F811
    need_root()
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", _with_serial(9000000000))
    cache = Path(folders["cache_folder"])
    cache.mkdir()
    cache.chmod(0o777)
    _load(url, {**folders, "state_folder": str(Path(folders["state_folder"]) / "attacker")})  # their entry
    (planted,) = cache.iterdir()
    os.chown(planted, OTHER, OTHER)
    (cache / "notes.txt").write_text("not clientcheck's")
    os.chown(cache / "notes.txt", OTHER, OTHER)
    cache.chmod(0o777)
    _serve(behaviour, "/rules.json", _with_serial(8))
    loaded = _load(url, folders)
    assert (loaded.info.serial, loaded.info.fallback_reason) == (8, None)
    assert f"the rules cache folder {cache} was open to others (mode 0777): made owner-only" in loaded.warnings
    assert any(w.startswith(f"removed {planted} from the rules cache folder") for w in loaded.warnings)
    assert (cache.stat().st_mode & 0o777, planted.stat().st_uid) == (0o700, 0)
    assert (cache / "notes.txt").stat().st_uid == OTHER  # not a cache entry: left alone


@pytest.mark.parametrize("how", ["owned-by-another-user", "through-another-users-link"])
def test_a_cache_folder_that_is_not_ours_is_not_used(server, folders, tmp_path: Path, how: str):  # noqa: F811
    need_root()
    base, behaviour = server
    _serve(behaviour, "/rules.json", RULES)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    os.chown(theirs, OTHER, OTHER)
    cache = theirs
    if how == "through-another-users-link":
        os.chown(theirs, 0, 0)
        cache = tmp_path / "cache-link"
        cache.symlink_to(theirs)
        os.lchown(cache, OTHER, OTHER)
    loaded = _load(f"{base}/rules.json", {**folders, "cache_folder": str(cache)})
    assert (loaded.info.serial, loaded.info.fallback_reason) == (7, None)  # fetched, only not cached
    assert any(w.endswith("not used; fetching without a cache") for w in loaded.warnings), loaded.warnings
    assert list(theirs.iterdir()) == []
    assert _floors(folders) == {f"url:{base}/rules.json": 7}  # the floor is kept all the same


# The rollback floor (item 17) ------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "key-pinned"])
@pytest.mark.parametrize("damage", ["deleted", "truncated", "emptied-folder"])
def test_losing_the_cache_does_not_lower_the_floor(server, folders, damage: str, signed: bool):  # noqa: F811
    public, secret = minisign.generate_keypair() if signed else (None, None)
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", _with_serial(8), secret)
    assert _load(url, folders, key=public).info.serial == 8
    cache = Path(folders["cache_folder"])
    (entry,) = cache.iterdir()
    if damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:-20])
    else:
        shutil.rmtree(cache) if damage == "emptied-folder" else entry.unlink()
    _serve(behaviour, "/rules.json", _with_serial(7), secret)
    loaded = _load(url, folders, key=public)
    assert loaded.info.source == "bundled"
    assert "serial 7 is not newer than serial 8 already accepted: refused as a rollback" in (
        loaded.info.fallback_reason or ""
    )


def test_the_same_serial_with_other_content_is_a_rollback_even_without_the_cache(server, folders):  # noqa: F811
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", _with_serial(8))
    _load(url, folders)
    shutil.rmtree(folders["cache_folder"])
    _serve(behaviour, "/rules.json", _with_serial(8, expires="2027-12-31"))
    assert "refused as a rollback" in (_load(url, folders).info.fallback_reason or "")


def test_pinning_a_key_after_unsigned_runs_keeps_the_floor(server, folders):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", _with_serial(8))
    assert _load(url, folders).info.serial == 8  # unsigned, no key pinned
    shutil.rmtree(folders["cache_folder"])
    _serve(behaviour, "/rules.json", _with_serial(7), secret)  # an older file, properly signed
    loaded = _load(url, folders, key=public)
    assert "serial 7 is not newer than serial 8" in (loaded.info.fallback_reason or "")
    _serve(behaviour, "/rules.json", _with_serial(9), secret)
    assert _load(url, folders, key=public).info.serial == 9
    key_id = minisign.parse_public_key(public).id_text
    assert _floors(folders) == {f"url:{base}/rules.json": 9, f"key:{key_id}": 9}


def test_with_a_key_pinned_the_floor_is_the_publishers_wherever_it_is_served(server, folders):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    port = base.rsplit(":", 1)[1]
    _serve(behaviour, "/rules.json", _with_serial(8), secret)
    assert _load(f"http://127.0.0.1:{port}/rules.json", folders, key=public).info.serial == 8
    _serve(behaviour, "/rules.json", _with_serial(7), secret)
    loaded = _load(f"http://localhost:{port}/rules.json", folders, key=public)
    assert "serial 7 is not newer than serial 8" in (loaded.info.fallback_reason or "")


@pytest.mark.parametrize(
    ("spelling", "path"),
    [
        ("HTTP://127.0.0.1:{port}/rules.json", "/rules.json"),
        ("http://127.0.0.1:{port}/./rules.json", "/rules.json"),
        ("http://127.0.0.1:{port}/x/../rules.json", "/rules.json"),
        ("http://127.0.0.1:{port}/%72ules.json", "/%72ules.json"),
        ("http://127.0.0.1:{port}/rules.json#x", "/rules.json"),
        ("http://127.0.0.1:{port}/rules.json?", "/rules.json?"),
    ],
)
def test_another_spelling_of_the_address_has_the_same_floor(server, folders, spelling: str, path: str):  # noqa: F811
    base, behaviour = server
    port = base.rsplit(":", 1)[1]
    _serve(behaviour, "/rules.json", _with_serial(8))
    assert _load(f"{base}/rules.json", folders).info.serial == 8
    for served in {path, "/rules.json"}:  # requests itself may decode %72 and drop an empty query
        _serve(behaviour, served, _with_serial(7))
    loaded = _load(spelling.format(port=port), folders)
    assert "serial 7 is not newer than serial 8" in (loaded.info.fallback_reason or ""), behaviour.requests[-1]


def test_a_huge_serial_is_refused_and_does_not_freeze_later_updates(server, folders):  # noqa: F811
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", RULES)
    _load(url, folders)
    huge = json.loads(RULES)
    huge["serial"] = 10**3999
    _serve(behaviour, "/rules.json", json.dumps(huge).encode())
    refused = _load(url, folders)
    assert refused.info.serial == 7
    assert f"serial: must be at most {MAX_SERIAL}, not a 4000-digit number" in (refused.info.fallback_reason or "")
    _serve(behaviour, "/rules.json", _with_serial(8))
    assert _load(url, folders).info.serial == 8


def test_the_floor_file_is_owner_only_and_says_what_it_holds(server, folders):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    _serve(behaviour, "/rules.json", RULES, secret)
    _load(f"{base}/rules.json", folders, key=public, now=dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc))
    state = Path(folders["state_folder"])
    path = state / "rules-floor.json"
    assert (state.stat().st_mode & 0o777, path.stat().st_mode & 0o777) == (0o700, 0o600)
    document = json.loads(path.read_text())
    key_id = minisign.parse_public_key(public).id_text
    entry = {
        "serial": 7,
        "sha256": __import__("hashlib").sha256(RULES).hexdigest(),
        "source": f"{base}/rules.json",
        "accepted_at": "2026-11-25T09:00:00+00:00",
    }
    assert document == {
        "schema": "clientcheck.rules-floor/1",
        "floors": {f"key:{key_id}": entry, f"url:{base}/rules.json": entry},
    }


def test_a_damaged_floor_file_is_said_and_the_cache_still_holds_the_floor(server, folders):  # noqa: F811
    base, behaviour = server
    url = f"{base}/rules.json"
    _serve(behaviour, "/rules.json", _with_serial(8))
    _load(url, folders)
    path = Path(folders["state_folder"]) / "rules-floor.json"
    path.write_text('{"schema": "clientcheck.rules-floor/1", "floors": {"url:x": {"serial": "8"}}}')
    _serve(behaviour, "/rules.json", _with_serial(7))
    loaded = _load(url, folders)
    assert loaded.info.serial == 8  # the cached copy: the server's older file was refused
    assert "refused as a rollback" in (loaded.info.fallback_reason or "")
    assert f"{path}: not a rollback floor file: written anew; the rollback floor starts again" in loaded.warnings[0]
    assert _floors(folders) == {f"url:{base}/rules.json": 8}  # rewritten whole from what is known


def test_a_state_folder_of_another_user_means_no_fetched_rules(server, folders, tmp_path: Path):  # noqa: F811
    need_root()
    base, behaviour = server
    _serve(behaviour, "/rules.json", RULES)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, OTHER, OTHER)
    loaded = _load(f"{base}/rules.json", {**folders, "state_folder": str(theirs)})
    assert loaded.info.source == "bundled"
    assert (
        f"the state folder {theirs} belongs to another user (uid {OTHER}), not to uid 0: not used, so the "
        "rollback floor cannot be kept" in (loaded.info.fallback_reason or "")
    )
    assert behaviour.requests == [] and list(theirs.iterdir()) == []


def test_without_a_state_folder_the_cache_keeps_the_floor_and_says_so(server, folders):  # noqa: F811
    base, behaviour = server
    _serve(behaviour, "/rules.json", _with_serial(8))
    _load(f"{base}/rules.json", {**folders, "state_folder": ""})
    _serve(behaviour, "/rules.json", _with_serial(7))
    loaded = _load(f"{base}/rules.json", {**folders, "state_folder": ""})
    assert loaded.info.serial == 8 and "refused as a rollback" in (loaded.info.fallback_reason or "")
    assert loaded.warnings[0].startswith("no state folder (the environment names no home folder)")


def test_where_the_floor_is_kept(monkeypatch: pytest.MonkeyPatch):
    import clientcheck.deliver

    assert floor.state_dir({"CLIENTCHECK_STATE_DIR": "/srv/cc", "HOME": "/home/ada"}) == "/srv/cc"
    monkeypatch.setattr(clientcheck.deliver, "effective_uid", lambda: 0)
    assert floor.state_dir({"HOME": "/root"}) == "/var/lib/clientcheck"  # root: the machine's, not a home
    monkeypatch.setattr(clientcheck.deliver, "effective_uid", lambda: 1000)
    assert floor.state_dir({"HOME": "/home/ada"}) == "/home/ada/.local/state/clientcheck"
    assert floor.state_dir({}) is None


def test_the_check_command_keeps_the_floor_in_the_state_folder_it_is_given(server, run_cli, tmp_path):  # noqa: F811
    base, behaviour = server
    _serve(behaviour, "/rules.json", _with_serial(8))
    env = {"CLIENTCHECK_STATE_DIR": str(tmp_path / "state"), "CLIENTCHECK_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli("--rules", f"{base}/rules.json", "--format", "json", env=env)
    assert first.json()["rules"]["serial"] == 8, first.err
    shutil.rmtree(tmp_path / "cache")
    _serve(behaviour, "/rules.json", _with_serial(7))
    again = run_cli("--rules", f"{base}/rules.json", "--format", "json", env=env).json()
    assert again["rules"]["source"] == "bundled"
    assert "refused as a rollback" in again["rules"]["fallback_reason"]


# Binding a file to where it is published (item 18) ---------------------------------------------------------


def _pilot(base: str, name: str = "pilot.json", serial: int = 8) -> bytes:
    document = json.loads(_with_serial(serial))
    document["url"] = f"{base}/{name}"
    return json.dumps(document).encode()


def test_a_pilot_file_signed_by_the_production_key_is_refused_at_the_production_address(server, folders):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    pilot = _pilot(base)
    _serve(behaviour, "/rules.json", pilot, secret, "timestamp:1764061200\tfile:pilot.json\thashed")
    loaded = _load(f"{base}/rules.json", folders, key=public)
    assert loaded.info.source == "bundled"
    assert f"the file says it is published at {base}/pilot.json: refused here" in (loaded.info.fallback_reason or "")
    assert _load(f"{base}/pilot.json", folders, key=public).info.source == "bundled"  # not served there (404)
    _serve(behaviour, "/pilot.json", pilot, secret, "timestamp:1764061200\tfile:pilot.json\thashed")
    assert _load(f"{base}/pilot.json", folders, key=public).info.fallback_reason is None  # at home, it is used


def test_a_signature_naming_another_file_is_refused(server, folders):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    _serve(behaviour, "/rules.json", _with_serial(8), secret, "timestamp:1764061200\tfile:pilot.json\thashed")
    loaded = _load(f"{base}/rules.json", folders, key=public)
    assert loaded.info.source == "bundled"
    assert "the signature is for the file 'pilot.json', not 'rules.json': refused" in (
        loaded.info.fallback_reason or ""
    )


@pytest.mark.parametrize(
    "comment",
    ["timestamp:1764061200\tfile:rules.json\thashed", "timestamp:1764061200\tfile:rules.json", "release 2026-11"],
)
def test_a_signature_naming_this_file_or_none_is_accepted(server, folders, comment: str):  # noqa: F811
    public, secret = minisign.generate_keypair()
    base, behaviour = server
    _serve(behaviour, "/rules.json", _pilot(base, "rules.json"), secret, comment)
    loaded = _load(f"{base}/rules.json", folders, key=public)
    assert (loaded.info.serial, loaded.info.fallback_reason) == (8, None)


def test_the_named_address_is_compared_normalised_and_before_any_redirect(server, folders):  # noqa: F811
    base, behaviour = server
    port = base.rsplit(":", 1)[1]
    document = json.loads(_with_serial(8))
    document["url"] = f"http://127.0.0.1:{port}/x/../%72ules.json#production"
    _serve(behaviour, "/cdn/v8.json", json.dumps(document).encode())
    behaviour.routes["/rules.json"] = (302, {"Location": "/cdn/v8.json"}, b"")
    loaded = _load(f"{base}/rules.json", folders)
    assert (loaded.info.serial, loaded.info.fallback_reason) == (8, None)
    # The same file asked for at the address the redirect led to is not where it says it is published.
    assert "refused here" in (_load(f"{base}/cdn/v8.json", folders).info.fallback_reason or "")


def test_an_unsigned_file_naming_another_address_is_refused_too(server, folders):  # noqa: F811
    base, behaviour = server
    _serve(behaviour, "/rules.json", _pilot(base))
    assert "refused here" in (_load(f"{base}/rules.json", folders).info.fallback_reason or "")


@pytest.mark.skipif(MINISIGN is None and os.environ.get("CI") != "true", reason="needs Debian's minisign")
def test_minisigns_own_file_name_binds_the_signature(server, folders, tmp_path: Path):  # noqa: F811
    assert MINISIGN is not None, "CI installs minisign"
    base, behaviour = server
    subprocess.run([MINISIGN, "-G", "-W", "-p", "k.pub", "-s", "k.key"], cwd=tmp_path, check=True, capture_output=True)
    public = (tmp_path / "k.pub").read_text()
    for name in ("pilot.json", "rules.json"):
        (tmp_path / name).write_bytes(_with_serial(8))
        # minisign's default trusted comment names the file it signs.
        subprocess.run([MINISIGN, "-S", "-s", "k.key", "-m", name], cwd=tmp_path, check=True, capture_output=True)
    behaviour.routes["/rules.json"] = _json((tmp_path / "pilot.json").read_bytes())
    behaviour.routes["/rules.json.minisig"] = (200, {}, (tmp_path / "pilot.json.minisig").read_bytes())
    refused = _load(f"{base}/rules.json", folders, key=public)
    assert "the signature is for the file 'pilot.json', not 'rules.json'" in (refused.info.fallback_reason or "")
    behaviour.routes["/rules.json.minisig"] = (200, {}, (tmp_path / "rules.json.minisig").read_bytes())
    assert _load(f"{base}/rules.json", folders, key=public).info.fallback_reason is None


def test_rules_sign_names_the_file_in_its_trusted_comment(run_cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.json").write_bytes(RULES)
    assert run_cli("rules", "keygen").status == 0
    assert run_cli("rules", "sign", "rules.json").status == 0
    comment = (tmp_path / "rules.json.minisig").read_text().splitlines()[2].removeprefix("trusted comment: ")
    assert minisign.comment_file_name(comment) == "rules.json"
    assert comment.startswith("timestamp:") and comment.endswith("\tfile:rules.json\thashed")


# An empty pinned key (item 21) -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_on_the_command_line_is_an_error(run_cli, key: str):
    run = run_cli("--rules", "https://rules.example.invalid/rules.json", "--rules-key", key)
    assert run.status == 2
    assert run.err.startswith("clientcheck: error: --rules-key: is empty: an empty key would turn signature checks off")


def test_an_empty_key_in_the_environment_is_an_error(run_cli):
    run = run_cli("--format", "json", env={"CLIENTCHECK_RULES_KEY": ""})
    assert run.status == 78
    assert run.err.splitlines()[0] == (
        "clientcheck: error: environment variable CLIENTCHECK_RULES_KEY: empty: signature checks cannot be turned "
        "off this way"
    )


@pytest.mark.parametrize("value", ['""', '"  "'])
def test_an_empty_key_in_a_configuration_file_is_an_error(run_cli, tmp_path: Path, value: str):
    config = tmp_path / "config.toml"
    config.write_text(f"[rules]\nkey = {value}\n")
    run = run_cli("--format", "json", places=Places(machine=None, user=str(config), managed=None))
    assert run.status == 78
    assert "rules.key: expected a non-empty string" in run.err


@pytest.mark.parametrize("key", ["", " \n"])
def test_an_empty_key_given_to_the_loader_is_an_error(folders, key: str):
    with pytest.raises(UsageError, match="--rules-key is empty"):
        _load("https://rules.example.invalid/rules.json", folders, key=key)
