from __future__ import annotations

import sys

from clientcheck_server.cli import entry

if __name__ == "__main__":
    sys.exit(entry())
