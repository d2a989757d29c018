"""gunicorn's worker for clientcheck-server: uvicorn's asyncio worker (one event loop per process, Django
views in the process's one thread) with the header deadline of serving.protocol."""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker

from clientcheck_server.serving.protocol import protocol_class


class Worker(UvicornWorker):  # type: ignore[misc]  # uvicorn-worker has no type information
    # Filled in by serve from the configuration before gunicorn forks any worker.
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": protocol_class(), "lifespan": "off"}
