"""``serve``: gunicorn's arbiter in this process, asyncio workers, the housekeeping beside them.

Worker model: gunicorn forks ``workers`` processes (two per CPU by default) and restarts any that dies
or stops answering its heartbeat (``timeout``). Each worker is an asyncio server (uvicorn): a client that
sends slowly holds a socket and a timer, not the worker, and is cut off after ``header_timeout`` (headers)
or ``body_timeout`` (body). Django runs in the worker's thread once a request is whole. Each worker holds at
most ``max_pending`` requests and answers 503 beyond, and at most ``limit_concurrency`` connections.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from clientcheck_server.conf import Config
from clientcheck_server.serving import protocol
from clientcheck_server.serving.worker import Worker

MAX_CONNECTIONS = 4096  # per worker; a connection costs a socket and a few KB
_housekeeper: subprocess.Popen[bytes] | None = None


def default_workers() -> int:
    return max(2, 2 * (os.cpu_count() or 1))


def _start_housekeeper(data: Path, interval: int) -> None:
    global _housekeeper
    if interval <= 0:
        return
    command = [
        sys.executable,
        "-m",
        "clientcheck_server",
        "--data",
        str(data),
        "housekeeping",
        "--every",
        str(interval),
        "--quiet",
    ]
    _housekeeper = subprocess.Popen(command, stdin=subprocess.DEVNULL)


def _stop_housekeeper() -> None:
    if _housekeeper is not None and _housekeeper.poll() is None:
        _housekeeper.send_signal(signal.SIGTERM)
        try:
            _housekeeper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _housekeeper.kill()


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from clientcheck_server.asgi import application

        return application


def run(
    config: Config, *, bind: str, certfile: str, keyfile: str, metrics_dir: Path, banner: Callable[[], object]
) -> None:
    protocol.HEADER_TIMEOUT = config.header_timeout
    Worker.CONFIG_KWARGS = {
        "loop": "auto",
        "http": protocol.protocol_class(),
        "lifespan": "off",
        "server_header": False,
        "limit_concurrency": MAX_CONNECTIONS,
        "proxy_headers": bool(config.trusted_proxies),
        "forwarded_allow_ips": list(config.trusted_proxies) or None,
    }

    def ready(server: Any) -> None:
        """Listening by now: say so (the URL, the first secret), then start the housekeeper."""
        banner()
        _start_housekeeper(config.data, config.housekeeping_interval)

    options: dict[str, Any] = {
        "bind": [bind],
        "workers": config.workers or default_workers(),
        "worker_class": "clientcheck_server.serving.worker.Worker",
        "timeout": 60,  # a worker that misses its heartbeat this long is replaced
        "graceful_timeout": 30,
        "keepalive": 5,
        "backlog": 2048,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "clientcheck-server",
        "child_exit": _child_exit,
        "when_ready": ready,
        "on_exit": lambda server: _stop_housekeeper(),
        "raw_env": [f"PROMETHEUS_MULTIPROC_DIR={metrics_dir}"],
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
    if certfile:
        options["certfile"] = certfile
        options["keyfile"] = keyfile
    Application(config, options).run()
