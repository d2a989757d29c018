"""The folder where serve's workers keep their metrics (prometheus_client's multiprocess mode). It must be
named in the environment before prometheus_client is first imported, so the command line prepares it
before Django starts. Each serve process has its own folder under the data folder; folders of servers
that are gone are removed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(data: Path) -> Path:
    root = data / "metrics"
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.glob("serve-*"):
        try:
            os.kill(int(old.name.removeprefix("serve-")), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(old, ignore_errors=True)
        except PermissionError:
            pass
    path = root / f"serve-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    os.environ[ENV] = str(path)
    return path
