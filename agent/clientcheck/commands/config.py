"""``clientcheck config show``: every setting in force and where it came from."""

from __future__ import annotations

from clientcheck.deliver import write_stream
from clientcheck.errors import ExitStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.arguments import Parsed
    from clientcheck.config import Places, Settings


def show(args: Parsed, settings: Settings, places: Places) -> int:
    from clientcheck.config.show import as_json, describe

    if args.show_format == "json":
        import json

        write_stream(json.dumps(as_json(settings), indent=2, ensure_ascii=False) + "\n")
    else:
        write_stream(describe(settings, places))
    return ExitStatus.OK
