"""A real OpenID Connect provider for the tests, in a process of its own: django-oidc-provider (another
implementation than the dashboard's client, authlib) in a small Django project, served on 127.0.0.1.

    python oidc_provider_app.py FOLDER PORT REDIRECT_URI...

Its users (password "provider password"), each with the provider's groups:
alice (it-admins), bob (helpdesk, sales-team), carol (no group), dora (helpdesk, lab-team).
Its client: id "clientcheck", secret "clientcheck-secret", the redirect URIs given. It prints "ready"
when it listens. Its cookies have their own names: cookies are per host, not per port, and the dashboard
under test runs on 127.0.0.1 too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

USERS = {"alice": ["it-admins"], "bob": ["helpdesk", "sales-team"], "carol": [], "dora": ["helpdesk", "lab-team"]}
PASSWORD = "provider password"
LOGIN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Provider sign-in</title></head><body><main>
<h1>Example provider</h1><form method="post">{% csrf_token %}
<label>User <input id="op-user" name="username"></label>
<label>Password <input id="op-password" name="password" type="password"></label>
<input type="hidden" name="next" value="{{ next }}"><button id="op-submit" type="submit">Sign in</button>
</form></main></body></html>"""


def userinfo(claims, user):
    claims["name"] = user.username.capitalize()
    claims["preferred_username"] = user.username
    claims["email"] = f"{user.username}@example.org"
    claims["zoneinfo"] = "Europe/Berlin"
    return claims


def _install_views() -> None:
    """What needs Django set up first: the groups scope's claims and the URLs (imported by name later)."""
    from django.contrib.auth import views as auth_views
    from django.urls import include, path
    from oidc_provider.lib.claims import ScopeClaims

    class GroupsClaims(ScopeClaims):
        def scope_groups(self):
            return {"groups": sorted(g.name for g in self.user.groups.all())}

    module = sys.modules[__name__]
    module.GroupsClaims = GroupsClaims  # type: ignore[attr-defined]
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("login", auth_views.LoginView.as_view()),
        path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
    ]


def main(folder: Path, port: int, redirects: list[str]) -> None:
    templates = folder / "templates"
    (templates / "registration").mkdir(parents=True, exist_ok=True)
    (templates / "registration" / "login.html").write_text(LOGIN_PAGE, encoding="utf-8")
    site = f"http://127.0.0.1:{port}"
    settings.configure(
        DEBUG=False,
        SECRET_KEY="provider-tests-only",  # noqa: S106
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oidc_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        ROOT_URLCONF=__name__,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "provider.sqlite3")}},
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(templates)],
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SESSION_COOKIE_NAME="op_session",
        CSRF_COOKIE_NAME="op_csrf",
        LOGIN_URL="/login",
        SITE_URL=site,
        OIDC_USERINFO=f"{__name__}.userinfo",
        OIDC_EXTRA_SCOPE_CLAIMS=f"{__name__}.GroupsClaims",
        OIDC_IDTOKEN_INCLUDE_CLAIMS=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # a test provider: fast
    )
    django.setup()
    _install_views()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0)
    call_command("creatersakey", verbosity=0)
    for name, groups in USERS.items():
        user = User.objects.create_user(name, password=PASSWORD)
        user.groups.set([Group.objects.get_or_create(name=g)[0] for g in groups])
    client = Client.objects.create(
        name="clientcheck",
        client_type="confidential",
        client_id="clientcheck",
        client_secret="clientcheck-secret",  # noqa: S106
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
    )
    client.redirect_uris = redirects
    client.save()
    client.response_types.add(ResponseType.objects.get(value="code"))

    from django.core.wsgi import get_wsgi_application

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", port, get_wsgi_application(), server_class=Threaded, handler_class=Quiet)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
