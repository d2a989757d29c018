"""macOS: a notification through ``osascript``'s ``display notification``.

It works from any process of the logged-in user, with no app bundle or signing (the notification names
Script Editor as its sender); ``UNUserNotificationCenter`` would need a signed bundle. The text reaches
the script as arguments of its ``run`` handler, never as part of the AppleScript source, so quotes or
backslashes in a message cannot change what runs.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.notify import Runner

OSASCRIPT = "/usr/bin/osascript"  # absolute: launchd gives a login agent a minimal PATH
SCRIPT = (
    "on run argv",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "end run",
)


def build_argv(title: str, body: str) -> list[str]:
    argv = [OSASCRIPT]
    for line in SCRIPT:
        argv += ["-e", line]
    # "--" ends osascript's options: a title starting with "-" is still an argument of the script.
    return [*argv, "--", title, body]


def send(
    title: str,
    body: str,
    *,
    location: str | None,
    env: Mapping[str, str] | None,
    runner: Runner,
    timeout: float | None = None,
) -> str | None:
    from clientcheck.notify import COMMAND_TIMEOUT, last_line

    seconds = COMMAND_TIMEOUT if timeout is None else timeout
    # A notification from osascript cannot carry a link (clicking it opens Script Editor): the report's
    # path is the last line instead.
    text = f"{body}\n{location}" if location and body else (location or body)
    try:
        status, errors = runner(build_argv(title, text), env, seconds)
    except TimeoutError:
        return f"osascript did not finish within {seconds:g} s (left running)"
    except OSError as error:
        return f"osascript could not start: {error.strerror or error}"
    if status != 0:
        return f"osascript failed: {last_line(errors) or f'exit status {status}'}"
    return None
