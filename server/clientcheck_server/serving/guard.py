"""What stands between the network and Django in each worker, on the worker's event loop.

Django runs a worker's views one at a time in one thread, so anything slow must be dealt with before a
request reaches it: the guard reads the whole body first, on the event loop, where a slow client costs a
coroutine and a socket instead of the worker. It answers 413 for a body over the cap (before reading it
when Content-Length says so), 408 when the body does not arrive within ``body_timeout``, and 503 with
Retry-After when the worker already holds ``max_pending`` whole requests (queueing more would only make every
answer late). Slow headers are the protocol's business (serving.protocol).

It also gives Django the worker's one thread. Left alone, Django's ASGI handler runs each request's views in
a new thread (a new ``ThreadSensitiveContext``, so a new one-thread executor, per request), and a database
connection belongs to its thread: every request opened a connection of its own, which ``CONN_MAX_AGE``
then kept open, so a worker's connections grew with its requests until PostgreSQL refused more (measured
with bench/loadsim.py: 12 connections after 50 requests to one worker, and 503s under load). Entering a
context with the worker's own executor first makes Django's inner one a no-op: every view of the worker
runs in that one thread, with its one connection kept between requests.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

from clientcheck_server.core import load

Message = dict[str, Any]


async def _send_error(send: Any, status: int, error: str, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: Any, *, max_body: int, body_timeout: float, max_pending: int) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.max_pending = max_pending
        self._django_thread: ThreadPoolExecutor | None = None  # made in the worker, after the fork

    def _executor(self) -> ThreadPoolExecutor:
        if self._django_thread is None:
            self._django_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django")
        return self._django_thread

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._handle(scope, receive, send)

    async def _handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
        if declared is not None and (declared < 0 or declared > self.max_body):
            if declared < 0:
                await _send_error(send, 400, "bad_request", "Content-Length is not a number", [])
            else:
                await _send_error(send, 413, "too_large", f"a request body is at most {self.max_body} bytes", [])
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        await _send_error(
                            send, 413, "too_large", f"a request body is at most {self.max_body} bytes", []
                        )
                        return
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            await _send_error(send, 408, "timeout", f"the body did not arrive within {self.body_timeout:g} s", [])
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: Message = await receive()
            return message

        # Only now, with the whole request in hand, does it wait for Django: a client still sending is
        # not counted (it costs nothing but its socket), so slow senders cannot make the worker shed load.
        if load.pending >= self.max_pending:
            await _send_error(
                send,
                503,
                "overloaded",
                "the server is busy: try again later",
                [(b"retry-after", str(load.retry_after()).encode())],
            )
            return
        load.pending += 1
        try:
            async with ThreadSensitiveContext(executor=self._executor()):
                await self.app(scope, replay, send)
        finally:
            load.pending -= 1
