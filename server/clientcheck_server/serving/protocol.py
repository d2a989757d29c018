"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn closes a keep-alive connection that stays idle, but a client that sends its headers a byte at a
time (slow-loris) is never timed out. Here a timer runs from the moment a connection opens (and again after
each response) until the request's headers are complete; when it fires first, the connection is closed.
It costs one timer per connection, on the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

HEADER_TIMEOUT = 10.0  # set from the configuration by serve before workers start


class _HeaderDeadline:
    """Mixed into a uvicorn protocol class (which has ``loop``, ``transport`` and ``cycle``)."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    _deadline: asyncio.TimerHandle | None = None
    _armed_for: Any = None

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle
        self._deadline = self.loop.call_later(HEADER_TIMEOUT, self._late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _late(self) -> None:
        self._deadline = None
        # No new request's headers completed since the timer was armed: the cycle is the same as then.
        idle = self.cycle is None or self.cycle.response_complete
        if self.cycle is self._armed_for and idle and not self.transport.is_closing():
            self.transport.close()


class GuardedH11Protocol(_HeaderDeadline, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_class() -> type[asyncio.Protocol]:
    if HttpToolsProtocol is None:
        return GuardedH11Protocol

    class GuardedHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedHttpToolsProtocol
