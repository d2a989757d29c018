"""``python bench/floorbench --data DIR [--database URL] serve [serve's options]``: clientcheck-server's
``serve`` (the same command, gunicorn options and workers) with the bench's settings, which add the floor
endpoint. What ``clientcheck-server`` does before Django starts, with another settings module."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/, where floorbench lives
    from clientcheck_server import conf
    from clientcheck_server.serving.metrics import prepare

    os.umask(0o077)
    front = argparse.ArgumentParser(add_help=False)
    front.add_argument("--data", required=True)
    front.add_argument("--database")
    known, rest = front.parse_known_args(argv)
    os.environ[conf.DATA_ENV] = os.path.abspath(known.data)
    if known.database:
        os.environ[conf.DATABASE_ENV] = known.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "floorbench.settings"
    config = conf.load()
    conf.prepare_data_dir(config.data)
    prepare(config.data)  # prometheus_client's folder, before anything imports it
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    execute_from_command_line(["floorbench", *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
