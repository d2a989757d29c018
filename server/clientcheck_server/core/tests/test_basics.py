"""Configuration, database URLs, CSV guarding, credentials, rate counters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from clientcheck_server import conf
from clientcheck_server.core import credentials, csvsafe, ratelimit


def test_database_urls(tmp_path: Path):
    assert conf.database_settings("", tmp_path)["NAME"] == str(tmp_path / "clientcheck.sqlite3")
    assert conf.database_settings("sqlite:////srv/x.db", tmp_path)["NAME"] == "/srv/x.db"
    pg = conf.database_settings("postgresql://cc:p%40ss@db.example:6432/fleet?sslmode=verify-full", tmp_path)
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "fleet",
        "cc",
        "p@ss",
        "db.example",
        "6432",
    )
    assert pg["OPTIONS"] == {"sslmode": "verify-full"}
    socket = conf.database_settings("postgresql:///fleet?host=/run/postgresql", tmp_path)
    assert (socket["HOST"], socket["OPTIONS"]) == ("/run/postgresql", {})
    for bad, says in [
        ("mysql://x/y", "scheme"),
        ("postgresql://h", "no database name"),
        ("postgresql://u:secret@h:x/d", "port"),
        ("sqlite://relative", "ABSOLUTE"),
    ]:
        with pytest.raises(conf.ConfigError) as error:
            conf.database_settings(bad, tmp_path)
        assert says in str(error.value)
        assert "secret" not in str(error.value)


def test_configuration_file_and_environment(tmp_path: Path):
    (tmp_path / "server.toml").write_text('workers = 3\ntrusted_proxies = ["10.0.0.1"]\nfuture_key = 1\n')
    config = conf.load({conf.DATA_ENV: str(tmp_path), conf.DATABASE_ENV: "postgresql://h/d"})
    assert (config.workers, config.trusted_proxies, config.database) == (3, ("10.0.0.1",), "postgresql://h/d")
    assert config.extra == {"future_key": 1}  # a key of a newer version: kept, not fatal
    (tmp_path / "server.toml").write_text("workers = -1\n")
    with pytest.raises(conf.ConfigError, match="must not be negative"):
        conf.load({conf.DATA_ENV: str(tmp_path)})
    (tmp_path / "server.toml").write_text("workers = [\n")
    with pytest.raises(conf.ConfigError, match="not TOML"):
        conf.load({conf.DATA_ENV: str(tmp_path)})


def test_prepare_data_dir_makes_a_secret_key_once(tmp_path: Path):
    data = tmp_path / "d"
    assert conf.prepare_data_dir(data) is True
    key = conf.load({conf.DATA_ENV: str(data)}).secret_key
    assert len(key) >= 60
    assert conf.prepare_data_dir(data) is False
    assert conf.load({conf.DATA_ENV: str(data)}).secret_key == key
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct((data / "server.toml").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("ws-01", "ws-01"),
        (None, ""),
        (True, "true"),
        (7, "7"),
    ],
)
def test_csv_cells_that_spreadsheets_would_evaluate_are_quoted(value, cell):
    assert csvsafe.guard(value) == cell


def test_csv_rows():
    assert list(csvsafe.rows(["a", "b"], [["=1", "x,y"]])) == ["a,b\r\n", '\'=1,"x,y"\r\n']


def test_credentials():
    value = credentials.new(credentials.HOST_KEY)
    assert credentials.well_formed(value, credentials.HOST_KEY)
    assert not credentials.well_formed(value, credentials.API_TOKEN)
    assert not credentials.well_formed(value[:-1] + "!", credentials.HOST_KEY)
    assert credentials.digest(value) != credentials.digest(credentials.new(credentials.HOST_KEY))
    assert credentials.prefix(value) == value[:12]


@pytest.mark.django_db(transaction=True)
def test_rate_counters_count_in_fixed_windows():
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
    hour = dt.timedelta(hours=1)
    verdicts = [ratelimit.hit("k", now=start + dt.timedelta(minutes=i), window=hour, limit=3) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 57 * 60 + 1
    assert not ratelimit.peek("k", now=start, window=hour, limit=3).allowed
    assert ratelimit.peek("k", now=start + hour, window=hour, limit=3).allowed
    assert ratelimit.hit("k", now=start + hour, window=hour, limit=3).count == 1  # a new window
