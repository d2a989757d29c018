"""Django settings, read once per process from the data folder's server.toml and the environment
(clientcheck_server.conf). Nothing here is for editing: change server.toml or the environment."""

from __future__ import annotations

from clientcheck_server import conf

CONFIG = conf.load()

BASE_DIR = CONFIG.data
# Commands that do not serve pages (secret, token, host…) need no key: a fixed one is only ever used for
# them, and serve refuses to start without the real one (see cli).
SECRET_KEY = CONFIG.secret_key or "clientcheck-server-command-line-without-sessions"
DEBUG = False
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "clientcheck_server.core",
    "clientcheck_server.fleet",
    "clientcheck_server.accounts",
    "clientcheck_server.enrollment",
    "clientcheck_server.ingest",
    "clientcheck_server.dashboard",
    "clientcheck_server.alerts",
]

# Kept short: every middleware runs on every report. The API authenticates with bearer tokens and is
# exempt from CSRF; sessions and CSRF are here for the dashboard's pages. The session and the user are
# read lazily, so a report (no cookie) never touches the session table.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clientcheck_server.core.middleware.SecurityHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clientcheck_server.dashboard.middleware.UserTimeZone",
    "clientcheck_server.core.middleware.DatabaseUnavailable",
]

ROOT_URLCONF = "clientcheck_server.urls"
ASGI_APPLICATION = "clientcheck_server.asgi.application"
AUTH_USER_MODEL = "accounts.User"

DATABASES = {"default": CONFIG.database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "clientcheck_server.dashboard.context.dashboard",
            ],
            # Templates are read once per process, not at every page.
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    ["django.template.loaders.app_directories.Loader"],
                )
            ],
        },
    }
]

USE_TZ = True
TIME_ZONE = CONFIG.time_zone
LANGUAGE_CODE = "en"
USE_I18N = False

# The ingest guard caps bodies before Django sees them; this is Django's own cap for everything else.
DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_body_bytes

LOGIN_URL = "/signin"
LOGIN_REDIRECT_URL = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = CONFIG.session_hours * 3600
SESSION_COOKIE_NAME = "clientcheck_session"
CSRF_COOKIE_NAME = "clientcheck_csrf"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script of ours reads the cookie
CSRF_FAILURE_VIEW = "clientcheck_server.dashboard.views.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.certfile or CONFIG.trusted_proxies:
    # Behind TLS (our own, from server.toml or serve --certfile, or a proxy's, which says so in
    # X-Forwarded-Proto): cookies only over HTTPS.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Sign-in through an OpenID Connect provider ([oidc] in server.toml), beside or instead of passwords.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

# Alert e-mail ([smtp] in server.toml), through Django's SMTP backend with the CA bundle it names.
EMAIL_BACKEND = "clientcheck_server.alerts.mail.Backend"
if CONFIG.smtp is not None:
    EMAIL_HOST = CONFIG.smtp.host
    EMAIL_PORT = CONFIG.smtp.port
    EMAIL_HOST_USER = CONFIG.smtp.username
    EMAIL_HOST_PASSWORD = CONFIG.smtp.password
    EMAIL_USE_TLS = CONFIG.smtp.security == "starttls"
    EMAIL_USE_SSL = CONFIG.smtp.security == "tls"
    EMAIL_TIMEOUT = CONFIG.smtp.timeout
    DEFAULT_FROM_EMAIL = CONFIG.smtp.sender

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "clientcheck_server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        # RefusedError requests are logged once, by the views, with the reason; not again per 4xx here.
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
