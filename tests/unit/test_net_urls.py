"""Rule and feed addresses are judged from urllib3's reading of them (the reading requests makes the request
from): "this machine" from the parsed address, never from the text; backslashes, user names and text the
parsers read differently are refused; one spelling per address for the rollback floor and the binding."""

from __future__ import annotations

import pytest

from clientcheck.net.urls import URLError, check, file_name, is_loopback, normalised, parse
from clientcheck.rules.generate.errors import FeedError
from clientcheck.rules.generate.policy import check_feed_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/rules.json",
        "http://127.1.2.3:8080/rules.json",
        "http://localhost/rules.json",
        "http://LocalHost:80/rules.json",
        "http://[::1]:8080/rules.json",
        "HTTP://127.0.0.1/x",
        "https://rules.example.com/rules.json",
        "HTTPS://Rules.Example.COM/rules.json",
    ],
)
def test_allowed(url: str):
    check(url)
    check_feed_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param("http://127.evil.example/rules.json", "only https://", id="name-starting-127"),
        pytest.param("http://127.0.0.1.evil.example/rules.json", "only https://", id="name-ending-in-a-name"),
        pytest.param("http://localhost.evil.example/rules.json", "only https://", id="localhost-subdomain"),
        pytest.param("http://0x7f.0.0.1/rules.json", "only https://", id="hex-address"),
        pytest.param("http://2130706433/rules.json", "only https://", id="decimal-address"),
        pytest.param("http://127.1/rules.json", "only https://", id="short-address"),
        pytest.param("http://[::ffff:127.0.0.1]/rules.json", "only https://", id="mapped-ipv4"),
        pytest.param("http://evil.example/rules.json", "only https://", id="plain-http-elsewhere"),
        pytest.param("ftp://127.0.0.1/rules.json", "only https://", id="ftp"),
        pytest.param("file:///etc/passwd", "only https://", id="file"),
        pytest.param("http://evil.example\\@127.0.0.1/rules.json", "a backslash", id="backslash-userinfo"),
        pytest.param("https://rules.example.com\\rules.json", "a backslash", id="backslash-path"),
        pytest.param("http://user@127.0.0.1/rules.json", "user name or password", id="userinfo"),
        pytest.param("http://127.0.0.1:80@evil.example/rules.json", "user name or password", id="port-as-user"),
        pytest.param("https://user:secret@rules.example.com/", "user name or password", id="password"),
        pytest.param("https://rules.example.com/r ules.json", "a space", id="space"),
        pytest.param("https://rules.example.com/\trules.json", "a control character", id="tab"),
        pytest.param(" https://rules.example.com/rules.json", "a space", id="leading-space"),
        pytest.param("https://règles.example.com/rules.json", "not ASCII", id="non-ascii"),
        pytest.param("https://[::1/rules.json", "not a valid address", id="unclosed-ipv6"),
        pytest.param("https://rules.example.com:99999/", "not a valid address", id="port-out-of-range"),
        pytest.param("https:///rules.json", "names no host", id="no-host"),
    ],
)
def test_refused(url: str, reason: str):
    with pytest.raises(URLError, match=reason):
        check(url)
    with pytest.raises(FeedError, match=reason):  # rules generate decides the same way
        check_feed_url(url)


def test_the_host_is_the_one_urllib3_connects_to():
    parsed = parse("HTTP://LocalHost:8080/a/./b/../rules.json?x=1#frag")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path, parsed.query) == (
        "http",
        "localhost",
        8080,
        "/a/rules.json",
        "x=1",
    )
    assert parsed.text == "http://localhost:8080/a/rules.json?x=1#frag"  # what the request is made with
    assert parse("http://[::1]:9/x").host == "::1"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("0:0:0:0:0:0:0:1", True),
        ("localhost", True),
        ("128.0.0.1", False),
        ("127.evil.example", False),
        ("::ffff:127.0.0.1", False),
        ("", False),
    ],
)
def test_loopback_from_the_parsed_host(host: str, loopback: bool):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "spelling",
    [
        "https://rules.example.com/it/rules.json",
        "HTTPS://Rules.Example.COM/it/rules.json",
        "https://rules.example.com:443/it/rules.json",
        "https://rules.example.com/it/./rules.json",
        "https://rules.example.com/x/../it/rules.json",
        "https://rules.example.com/it/%72ules.json",
        "https://rules.example.com/%69%74/rules.json",
        "https://rules.example.com/it/rules.json#production",
    ],
)
def test_one_spelling_per_address(spelling: str):
    assert normalised(spelling) == "https://rules.example.com/it/rules.json"


def test_what_normalising_keeps_apart():
    assert normalised("https://rules.example.com/rules.json?v=2") == "https://rules.example.com/rules.json?v=2"
    assert normalised("https://rules.example.com/rules.json?") == "https://rules.example.com/rules.json"
    assert normalised("https://rules.example.com:8443/r.json") == "https://rules.example.com:8443/r.json"
    assert normalised("http://rules.example.com:443/r.json") == "http://rules.example.com:443/r.json"
    assert normalised("https://rules.example.com/a%2fb%2Fc") == "https://rules.example.com/a%2Fb%2Fc"
    assert normalised("https://rules.example.com") == "https://rules.example.com/"
    assert normalised("http://[::1]:80/x") == "http://[::1]/x"
    assert normalised("https://rules.example.com/Rules.json") != normalised("https://rules.example.com/rules.json")


def test_the_file_name_of_an_address():
    assert file_name("https://rules.example.com/it/rules.json?v=2#x") == "rules.json"
    assert file_name("https://rules.example.com/it/my%20rules.json") == "my rules.json"
    assert file_name("https://rules.example.com/it/") == ""
