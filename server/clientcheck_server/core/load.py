"""How busy this worker is, as the ASGI guard counts it: the requests it holds (running or waiting for
the worker's one Django thread). A measure, not state: it says how long agents should wait before coming
back, and when to shed load with 503 rather than queue without bound."""

from __future__ import annotations

import random

from django.conf import settings

pending = 0  # changed only by the guard, on the worker's event loop


def busy() -> float:
    """0.0 idle .. 1.0 at the limit where the guard starts answering 503."""
    return min(1.0, pending / max(1, settings.CONFIG.max_pending))


def next_check_in() -> int:
    """Seconds until the agent should come back: the configured interval, plus up to a quarter of it at
    random (so a fleet that came up together spreads out), up to four times longer when this worker is busy."""
    base = settings.CONFIG.check_in_interval
    return int(base * random.uniform(1.0, 1.25) * (1.0 + 3.0 * busy()))  # noqa: S311 - jitter, not a secret


def retry_after(base: int = 30) -> int:
    """A Retry-After for 429/503: ``base`` seconds and up to as many again at random, so agents told to wait
    together do not come back together."""
    return base + random.randrange(base + 1)  # noqa: S311 - jitter, not a secret
