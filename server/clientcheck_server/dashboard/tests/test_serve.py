"""The dashboard from `clientcheck-server serve` on a fresh data folder: pages, assets and sign-in over real
HTTP; cookies Secure when TLS is on, whether it was asked for in server.toml or by serve --certfile."""

from __future__ import annotations

import re

import pytest

from servertest import cli, request, self_signed_certificate


def _cookies(answer) -> dict[str, str]:
    headers = [v for k, v in answer.headers.items() if k == "set-cookie"]
    return {h.split("=", 1)[0]: h for h in headers}


def test_the_dashboard_from_a_fresh_serve(servers, data_dir):
    server = servers(data_dir).wait_ready()
    cli(data_dir, "admin", "create", "first", "--password-file", "-", input="a first admin password\n")
    page = request(server.url, "GET", "/")
    assert page.status == 302 and page.headers["location"] == "/signin?next=/"
    signin = request(server.url, "GET", "/signin")
    assert signin.status == 200 and b"clientcheck-server admin create NAME" in signin.body
    css = re.search(rb'href="(/static/dashboard\.css\?v=[0-9a-f]{12})"', signin.body).group(1).decode()
    asset = request(server.url, "GET", css)
    assert asset.status == 200 and asset.headers["content-type"].startswith("text/css")
    assert "immutable" in asset.headers["cache-control"]
    assert request(server.url, "GET", "/static/../settings.py").status == 404
    # Sign in with the form, as a browser would.
    import requests

    session = requests.Session()
    form = session.get(server.url + "/signin", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        server.url + "/signin",
        data={"username": "first", "password": "a first admin password", "csrfmiddlewaretoken": token, "next": "/"},
        headers={"Origin": server.url},
        timeout=30,
    )
    assert answer.status_code == 200 and "Overview" in answer.text
    for path in ("/hosts", "/rules", "/secrets", "/audit", "/alerts", "/hosts.csv"):
        assert session.get(server.url + path, timeout=30).status_code == 200, path


@pytest.fixture
def certificate(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    return cert, key


def test_cookies_are_secure_with_tls_from_the_command_line(servers, migrated_data, certificate, monkeypatch):
    cert, key = certificate
    server = servers(migrated_data, args=("--certfile", str(cert), "--keyfile", str(key)))
    server.url = server.url.replace("http://", "https://")
    monkeypatch.setenv("CLIENTCHECK_TEST_CA", str(cert))
    server.wait_ready()
    cookies = _cookies(request(server.url, "GET", "/signin"))
    csrf = cookies["clientcheck_csrf"].lower()
    assert "; secure" in csrf and "httponly" in csrf and "samesite=strict" in csrf


def test_cookies_are_not_secure_on_plain_loopback_http(server):
    csrf = _cookies(request(server.url, "GET", "/signin"))["clientcheck_csrf"].lower()
    assert "; secure" not in csrf and "httponly" in csrf
