"""Signing in through a real OpenID Connect provider the test starts on 127.0.0.1 (django-oidc-provider,
in its own process), with the dashboard's client (authlib): the code flow with PKCE, the ID token's
signature checked against the provider's keys, the claims mapped to a role and fleet groups, a user made
at the first sign-in and updated at the next ones; refusals for who may not come in, replays and
mismatched state."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings

from clientcheck_server.accounts import oidc
from clientcheck_server.accounts.models import AuditEvent, User
from clientcheck_server.conf import OIDC
from servertest import clean_env, free_port

pytestmark = pytest.mark.django_db
APP = Path(__file__).resolve().parents[2] / "dashboard" / "tests" / "oidc_provider_app.py"
CALLBACK = "http://testserver/signin/oidc/callback"


class Provider:
    def __init__(self, folder: Path, *redirects: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/openid"
        self.log = open(folder / "provider.log", "w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(APP), str(folder), str(self.port), *(redirects or (CALLBACK,))],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=clean_env(),
            text=True,
        )
        line = self.process.stdout.readline()
        while line and "ready" not in line:
            line = self.process.stdout.readline()
        if "ready" not in line:
            self.log.seek(0)
            raise AssertionError(f"the provider did not start: {self.log.read()}")

    def set_groups(self, user: str, groups: list[str]) -> None:
        with sqlite3.connect(self.folder / "provider.sqlite3") as db:
            uid = db.execute("SELECT id FROM auth_user WHERE username = ?", [user]).fetchone()[0]
            db.execute("DELETE FROM auth_user_groups WHERE user_id = ?", [uid])
            for name in groups:
                db.execute("INSERT OR IGNORE INTO auth_group (name) VALUES (?)", [name])
                gid = db.execute("SELECT id FROM auth_group WHERE name = ?", [name]).fetchone()[0]
                db.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", [uid, gid])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def provider(tmp_path, monkeypatch):
    started = Provider(tmp_path)
    config = OIDC(
        issuer=started.issuer,
        client_id="clientcheck",
        client_secret="clientcheck-secret",  # noqa: S106
        scopes=("openid", "email", "profile", "groups"),
        label="Sign in with Example",
        admin_groups=("it-admins",),
        viewer_groups=("helpdesk",),
        group_map=(("lab-team", "Lab"), ("sales-team", "Sales")),
        unscoped_groups=("it-admins",),
    )
    monkeypatch.setattr(django_settings, "CONFIG", replace(django_settings.CONFIG, oidc=config))
    oidc.client.cache_clear()
    yield started
    oidc.client.cache_clear()
    started.stop()


def provider_sign_in(authorize_url: str, username: str) -> str:
    """A person at the provider: follow to its sign-in page, sign in, come back with a code. Returns the
    callback URL the provider sends the browser to."""
    browser = requests.Session()
    answer = browser.get(authorize_url, allow_redirects=True, timeout=30)
    assert answer.status_code == 200 and "op-user" in answer.text, answer.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text).group(1)
    nxt = re.search(r'name="next" value="([^"]+)"', answer.text).group(1).replace("&amp;", "&")
    answer = browser.post(
        answer.url.split("?")[0],
        data={"username": username, "password": "provider password", "csrfmiddlewaretoken": token, "next": nxt},
        headers={"Referer": answer.url},
        allow_redirects=False,
        timeout=30,
    )
    for _ in range(5):
        location = answer.headers.get("Location", "")
        assert answer.status_code == 302, answer.text[:500]
        if location.startswith(CALLBACK):
            return location
        answer = browser.get(requests.compat.urljoin(answer.url, location), allow_redirects=False, timeout=30)
    raise AssertionError("the provider did not send the browser back")


def sign_in(client, username: str, next_page: str = "/hosts"):
    start = client.get(f"/signin/oidc?next={next_page}")
    assert start.status_code == 302 and start["Location"].startswith("http://127.0.0.1:")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    back = provider_sign_in(start["Location"], username)
    return client.get(back.removeprefix("http://testserver")), back


def test_first_sign_in_makes_an_admin_from_the_providers_groups(client, provider):
    answer, _ = sign_in(client, "alice")
    assert answer.status_code == 302 and answer["Location"] == "/hosts"
    alice = User.objects.get(username="alice")
    assert alice.role == "admin" and not alice.fleet_groups.exists() and not alice.has_usable_password()
    assert alice.email == "alice@example.org" and alice.time_zone == "Europe/Berlin"
    assert alice.oidc_subject.startswith(provider.issuer + " ")
    assert client.get("/secrets").status_code == 200
    made = AuditEvent.objects.get(action="user.create")
    assert made.via == "oidc" and made.detail == {"role": "admin", "groups": []}
    assert AuditEvent.objects.filter(action="signin", actor="alice", via="oidc").exists()


def test_a_viewer_is_scoped_to_the_fleet_groups_their_provider_groups_map_to(client, provider):
    answer, _ = sign_in(client, "bob")
    assert answer.status_code == 302
    bob = User.objects.get(username="bob")
    assert bob.role == "viewer" and [g.name for g in bob.fleet_groups.all()] == ["Sales"]
    assert client.get("/secrets").status_code == 403
    # The provider moves bob to the lab: his next sign-in follows, and says so in the audit log.
    client.logout()
    provider.set_groups("bob", ["helpdesk", "lab-team"])
    sign_in(client, "bob")
    bob.refresh_from_db()
    assert [g.name for g in bob.fleet_groups.all()] == ["Lab"]
    change = AuditEvent.objects.get(action="user.change")
    assert change.detail == {"role": "viewer", "groups": ["Lab"]} and change.target == "bob"


def test_who_may_not_come_in_is_refused_and_told_why(client, provider):
    answer, _ = sign_in(client, "carol")
    assert answer.status_code == 302 and answer["Location"] == "/signin"
    assert not User.objects.filter(username="carol").exists()
    page = client.get("/signin").content.decode()
    assert "carol is in none of the provider groups allowed here" in page
    assert client.get("/").status_code == 302  # not signed in


def test_a_local_user_of_the_same_name_is_not_taken_over(client, provider):
    User.objects.create_user("dora", password="a local password of dora")  # noqa: S106
    answer, _ = sign_in(client, "dora")
    assert answer["Location"] == "/signin"
    assert "exists here already" in client.get("/signin").content.decode()
    assert User.objects.get(username="dora").oidc_subject == ""


def test_a_callback_replayed_or_from_another_browser_is_refused(client, provider):
    from django.test import Client

    _, back = sign_in(client, "alice")
    client.logout()
    replayed = client.get(back.removeprefix("http://testserver"))
    assert replayed["Location"] == "/signin" and "_auth_user_id" not in client.session
    # A code that was sent to someone else's browser (another session: no state of ours there).
    other = Client()
    start = client.get("/signin/oidc")
    stolen = provider_sign_in(start["Location"], "alice")
    assert other.get(stolen.removeprefix("http://testserver"))["Location"] == "/signin"
    assert "_auth_user_id" not in other.session


def test_an_unreachable_provider_is_a_message_not_an_error(client, provider):
    provider.stop()
    oidc.client.cache_clear()
    answer = client.get("/signin/oidc")
    assert answer.status_code == 302 and answer["Location"] == "/signin"
    assert "cannot be reached" in client.get("/signin").content.decode()


def test_the_claims_mapping(provider):
    config = django_settings.CONFIG.oidc
    mapped = oidc.map_claims(config, {"sub": "7", "preferred_username": "eve", "groups": ["helpdesk", "sales-team"]})
    assert mapped.role == "viewer" and mapped.groups == ("Sales",)
    with pytest.raises(oidc.RefusedError, match="no provider group that maps"):
        oidc.map_claims(config, {"sub": "7", "preferred_username": "eve", "groups": ["helpdesk"]})
    admin = oidc.map_claims(config, {"sub": "8", "preferred_username": "ada", "groups": "it-admins"})
    assert admin.role == "admin" and admin.groups == ()
    with pytest.raises(oidc.RefusedError, match="no subject"):
        oidc.map_claims(config, {"preferred_username": "eve"})
    with pytest.raises(oidc.RefusedError, match="control characters"):
        oidc.map_claims(config, {"sub": "1", "preferred_username": "e\x1bve", "groups": ["it-admins"]})
    plain = replace(config, viewer_groups=(), group_map=(), admin_groups=())
    assert oidc.map_claims(plain, {"sub": "1", "preferred_username": "x"}).role == "viewer"
