"""The server's configuration: read once, from the data folder's ``server.toml`` and the environment.

Precedence, highest first: the command line (which the ``clientcheck-server`` command turns into the
environment variables below before Django starts), the environment, ``server.toml`` in the data folder, the
defaults here. Settings that an admin changes at run time from the dashboard (retention, stale and archive
windows) live in the database instead (``fleet.FleetSettings``), so every server process sees one value.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import tomllib

DATA_ENV = "CLIENTCHECK_SERVER_DATA"
DATABASE_ENV = "CLIENTCHECK_SERVER_DATABASE"
SECRET_KEY_ENV = "CLIENTCHECK_SERVER_SECRET_KEY"  # noqa: S105 - a variable's name
# serve's --certfile/--keyfile, handed on by the command line before the settings are read: the settings
# decide from them (as from server.toml's certfile) that cookies are sent over HTTPS only.
CERTFILE_ENV = "CLIENTCHECK_SERVER_CERTFILE"
KEYFILE_ENV = "CLIENTCHECK_SERVER_KEYFILE"
CONFIG_NAME = "server.toml"
SQLITE_NAME = "clientcheck.sqlite3"


class ConfigError(ValueError):
    """A setting that cannot be used, with the place it came from."""


@dataclass(frozen=True)
class Config:
    data: Path
    secret_key: str = ""
    database: str = ""  # empty: SQLite in the data folder
    bind: str = "127.0.0.1:8765"
    certfile: str = ""
    keyfile: str = ""
    workers: int = 0  # 0: two per CPU, at least 2
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto headers are believed. Empty:
    # no header is believed, and the client address is the connection's peer.
    trusted_proxies: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ("*",)
    time_zone: str = "UTC"  # day buckets of the daily rollup
    housekeeping_interval: int = 300  # seconds between housekeeping runs inside serve; 0: never in serve
    # Ingest limits.
    max_body_bytes: int = 1_048_576  # a request body as sent (gzip or not): larger is 413
    max_report_bytes: int = 4_194_304  # a body after gzip decompression: larger is 413 (bombs)
    check_in_interval: int = 3600  # seconds: the base of next_check_in
    host_requests_per_hour: int = 240
    enroll_failures_per_hour: int = 720  # per client address (Fleet's figure for bad tokens)
    header_timeout: float = 10.0  # seconds for a request's headers to arrive
    body_timeout: float = 30.0  # seconds for a request's whole body to arrive
    max_pending: int = 64  # requests one worker holds (running or waiting) before it answers 503
    metrics_require_token: bool = False
    # The dashboard.
    public_url: str = ""  # how people reach the dashboard (https://fleet.example.com): links in alerts
    signin_failures_per_hour: int = 10  # per user name, and five times that per client address
    session_hours: int = 12  # a dashboard session lasts this long from sign-in
    oidc: OIDC | None = None  # [oidc]: sign-in through an OpenID Connect provider
    smtp: SMTP | None = None  # [smtp]: where alert e-mail is sent through
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.data / CONFIG_NAME

    def database_settings(self) -> dict[str, Any]:
        return database_settings(self.database, self.data)


@dataclass(frozen=True)
class OIDC:
    """``[oidc]`` in server.toml: the provider, this server's client there, and how the provider's claims map
    to a role and groups (docs/dashboard.md)."""

    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    label: str = "Sign in with single sign-on"
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    # Provider groups whose members are admins; of viewers (empty: anyone the provider signs in).
    admin_groups: tuple[str, ...] = ()
    viewer_groups: tuple[str, ...] = ()
    # Provider group -> fleet group: a user who is in none of unscoped_groups sees only the hosts of the
    # fleet groups their provider groups map to (and is refused when they map to none). Empty: no scoping.
    group_map: tuple[tuple[str, str], ...] = ()
    unscoped_groups: tuple[str, ...] = ()
    ca_bundle: str = ""
    password_signin: bool = True  # whether local passwords still work beside the provider


@dataclass(frozen=True)
class SMTP:
    """``[smtp]`` in server.toml: the mail server alert digests are sent through."""

    host: str
    sender: str
    port: int = 587
    security: str = "starttls"  # starttls, tls (implicit, usually port 465) or none
    username: str = ""
    password: str = ""
    ca_bundle: str = ""
    timeout: float = 20.0


_TYPES = {f.name: f.type for f in fields(Config)}
_SECTIONS = {"oidc": OIDC, "smtp": SMTP}


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("clientcheck-server", appauthor=False))


def load(env: dict[str, str] | None = None) -> Config:
    """The configuration of this process: ``server.toml`` in the data folder, overridden by the environment."""
    env = dict(os.environ) if env is None else env
    data = Path(env.get(DATA_ENV) or default_data_dir()).expanduser().absolute()
    values: dict[str, Any] = {}
    path = data / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not TOML: {error}") from None
    for key, value in document.items():
        values[key] = _checked(path, key, value)
    if env.get(DATABASE_ENV):
        values["database"] = env[DATABASE_ENV]
    if env.get(SECRET_KEY_ENV):
        values["secret_key"] = env[SECRET_KEY_ENV]
    if env.get(CERTFILE_ENV):
        values["certfile"] = env[CERTFILE_ENV]
    if env.get(KEYFILE_ENV):
        values["keyfile"] = env[KEYFILE_ENV]
    extra = {key: values.pop(key) for key in list(values) if key not in _TYPES or key in ("data", "extra")}
    config = Config(data=data, extra=extra, **values)
    database_settings(config.database, data)  # a bad URL fails here, at start, with its reason
    return config


def _section(path: Path, key: str, value: Any) -> Any:
    """A table of server.toml ([oidc], [smtp]) as its dataclass: unknown keys are refused here, since a
    misspelt key in these would silently change who may sign in or where mail goes."""
    kind = _SECTIONS[key]
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    known = {f.name: f.type for f in fields(kind)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ConfigError(f"{path}: [{key}] has no setting {', '.join(unknown)}")
    checked: dict[str, Any] = {}
    for name, item in value.items():
        where = f"{key}.{name}"
        expected = known[name]
        if expected == "tuple[tuple[str, str], ...]":
            if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
                raise ConfigError(f"{path}: {where} must be a table of names to names, not {item!r}")
            checked[name] = tuple(sorted(item.items()))
        elif expected == "tuple[str, ...]":
            if not isinstance(item, list) or not all(isinstance(v, str) for v in item):
                raise ConfigError(f"{path}: {where} must be a list of strings, not {item!r}")
            checked[name] = tuple(item)
        elif expected == "int":
            if not isinstance(item, int) or isinstance(item, bool) or not 0 < item < 65536:
                raise ConfigError(f"{path}: {where} must be a port number, not {item!r}")
            checked[name] = item
        elif expected == "float":
            if not isinstance(item, (int, float)) or isinstance(item, bool) or item <= 0:
                raise ConfigError(f"{path}: {where} must be a positive number, not {item!r}")
            checked[name] = float(item)
        elif expected == "bool":
            if not isinstance(item, bool):
                raise ConfigError(f"{path}: {where} must be true or false, not {item!r}")
            checked[name] = item
        else:
            if not isinstance(item, str):
                raise ConfigError(f"{path}: {where} must be a string, not {item!r}")
            checked[name] = item
    required = [f.name for f in fields(kind) if f.default is MISSING and f.name not in checked]
    if required:
        raise ConfigError(f"{path}: [{key}] needs {', '.join(required)}")
    if key == "smtp" and checked.get("security", "starttls") not in ("starttls", "tls", "none"):
        raise ConfigError(f"{path}: smtp.security must be starttls, tls or none")
    if key == "oidc":
        _check_issuer(path, checked["issuer"])
    return kind(**checked)


def _check_issuer(path: Path, issuer: str) -> None:
    """HTTPS, except to this machine (tests, a provider beside the server): the provider's answers decide
    who is an admin, so they must not be readable or changeable on the way."""
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1") or (parts.hostname or "").startswith("127.")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigError(f"{path}: oidc.issuer must be an https:// URL (http:// only to this machine), not {issuer!r}")


def _checked(path: Path, key: str, value: Any) -> Any:
    if key in _SECTIONS:
        return _section(path, key, value)
    kind = _TYPES.get(key)
    if kind is None or key in ("data", "extra"):
        return value  # kept in extra; an unknown key is reported by `check`, never fatal (mixed versions)
    expected: tuple[type, ...]
    if kind == "str":
        expected = (str,)
    elif kind == "int":
        expected = (int,)
    elif kind == "float":
        expected = (int, float)
    elif kind == "bool":
        expected = (bool,)
    else:  # a tuple of strings
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{path}: {key} must be a list of strings, not {value!r}")
        return tuple(value)
    if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key} must be {kind}, not {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"{path}: {key} must not be negative, not {value!r}")
    return float(value) if kind == "float" else value


def database_settings(url: str, data: Path) -> dict[str, Any]:
    """Django's DATABASES["default"] for a database URL: empty for SQLite in the data folder,
    ``sqlite:///srv/clientcheck.sqlite3``, or ``postgresql://USER:PASSWORD@HOST:PORT/NAME?sslmode=…`` (any libpq
    parameter in the query, ``host=/run/postgresql`` for a socket folder)."""
    if not url:
        return _sqlite(data / SQLITE_NAME)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if not parts.path or parts.netloc:
            raise ConfigError(f"database {url!r}: write sqlite:///ABSOLUTE/PATH (three slashes, then the path)")
        # sqlite:///srv/x.db and SQLAlchemy's sqlite:////srv/x.db both name /srv/x.db.
        return _sqlite(Path("/" + unquote(parts.path).lstrip("/")))
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"database {_redacted(url)!r}: the scheme must be postgresql:// or sqlite:///")
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError(f"database {_redacted(url)!r}: no database name (postgresql://HOST/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"database {_redacted(url)!r}: the port is not a number") from None
    host = options.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
        # One connection per worker thread, kept between requests (no connect per request), checked
        # before reuse so a restarted PostgreSQL costs one failed request at most.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }


def _sqlite(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL: readers never wait for the writer. synchronous=FULL: a commit is on disk before 202 is
            # answered (NORMAL would survive a crash of the process but not of the machine). IMMEDIATE:
            # a writing transaction takes the write lock at BEGIN, so two writers queue instead of
            # deadlocking on a lock upgrade; busy_timeout (timeout) makes them wait rather than fail.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "CONN_MAX_AGE": 600,
    }


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def redacted_database(config: Config) -> str:
    if not config.database:
        return f"sqlite://{config.data / SQLITE_NAME}"
    return _redacted(config.database)


def is_postgresql(config: Config) -> bool:
    return urlsplit(config.database).scheme in ("postgresql", "postgres")


def prepare_data_dir(data: Path) -> bool:
    """Make the data folder (owner-only) and its ``server.toml`` with a new secret key when missing.
    True when the configuration file was made now (a first start)."""
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data, 0o700)
    path = data / CONFIG_NAME
    if path.exists():
        return False
    text = (
        "# clientcheck-server settings (docs/server.md lists them all). Read at start; restart to apply.\n"
        "# Several servers sharing one PostgreSQL need the same secret_key.\n"
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
        '# database = "postgresql://clientcheck:PASSWORD@db.example/clientcheck"\n'
        '# bind = "127.0.0.1:8765"\n'
        "# trusted_proxies = []\n"
        '# time_zone = "UTC"\n'
    )
    temporary = path.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    try:
        os.link(temporary, path)  # never replaces a file another process made meanwhile
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True
