"""Django's SMTP backend with the CA bundle of [smtp] in server.toml: a mail server with a private CA is
verified against it (Django's own verifies against the system's CAs only)."""

from __future__ import annotations

import ssl
from functools import cached_property

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend


class Backend(EmailBackend):
    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        smtp = settings.CONFIG.smtp
        return ssl.create_default_context(cafile=smtp.ca_bundle or None if smtp else None)
