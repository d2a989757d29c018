"""Desktop notifications: one notice to the person at the workstation, handed to the OS's own service.

``notify`` never raises and never waits long: a failed notification must not fail (or hold up) the check
that runs at login. It returns None when the OS took the notification, else one line saying why not, for
the caller to log. Each platform module is imported only when used:

- Linux and other free desktops: ``dbus`` (org.freedesktop.Notifications over the session bus; no
  subprocess);
- macOS: ``macos`` (``osascript``'s ``display notification``);
- Windows: ``windows`` (a toast raised by Windows PowerShell through WinRT).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    # runner(argv, env or None to inherit, timeout in seconds) -> (exit status, error output). It raises
    # OSError when the program cannot start and TimeoutError when it has not finished in time.
    Runner = Callable[[Sequence[str], Mapping[str, str] | None, float], tuple[int, str]]

APP_ID = "clientcheck"  # Windows AppUserModelID: the installer's Start-menu shortcut carries the same one
TITLE_LIMIT = 200  # characters; a notification shows a line or two, the full report is behind the link
BODY_LIMIT = 1000
COMMAND_TIMEOUT = 3.0  # seconds for osascript or PowerShell to hand the notification over
_WINDOWS_NO_WINDOW = 0x08000000  # CREATE_NO_WINDOW: no console flashes up under pythonw or a logon task
_URL_SCHEMES = ("file:", "https:")


def notify(
    title: str,
    body: str,
    *,
    url: str | None = None,
    link_label: str | None = None,
    critical: bool = False,
    platform: str | None = None,
    env: Mapping[str, str],
    runner: Runner | None = None,
) -> str | None:
    """Show one desktop notification; None when the OS took it, else why not (one line). Never raises.

    ``url`` (file:// or https://) is the full report: a link where the notification service makes links,
    else its path or address as a last line. ``link_label`` is the link's text in the person's language
    (default: the path). ``critical`` asks for the urgent kind (Linux urgency 2, a long-lived Windows toast).
    ``platform`` is linux, macos or windows (default: this machine); ``env`` the environment to read
    (the run's: ``cli.main`` reads the process's); ``runner`` starts osascript or PowerShell (default: ``run_command``).
    """
    try:
        return _notify(title, body, url, link_label, critical, platform, env, runner)
    except Exception as error:  # a notification must never fail the check: say why instead
        return _one_line(f"notification failed: {type(error).__name__}: {error}")


def _notify(
    title: str,
    body: str,
    url: str | None,
    link_label: str | None,
    critical: bool,
    platform: str | None,
    env: Mapping[str, str],
    runner: Runner | None,
    buttons: Sequence[tuple[str, str]] = (),
) -> str | None:
    if platform is None:
        from clientcheck.platforms import this_platform

        platform = this_platform()
    title = clean_text(title, TITLE_LIMIT)
    body = clean_text(body, BODY_LIMIT)
    link_label = clean_text(link_label, TITLE_LIMIT) if link_label else None
    url = url if url is not None and usable_url(url) else None
    location = display_location(url, windows=platform == "windows") if url is not None else None
    if platform == "linux":
        from clientcheck.notify import dbus

        reason = dbus.send_notification(
            title, body, url=url, location=location, link_label=link_label, critical=critical, env=env
        )
    elif platform == "macos":
        from clientcheck.notify import macos

        reason = macos.send(title, body, location=location, env=env, runner=runner or run_command)
    elif platform == "windows":
        from clientcheck.notify import windows

        reason = windows.send(
            title,
            body,
            url=url,
            location=location,
            link_label=link_label,
            critical=critical,
            env=env,
            runner=runner or run_command,
            buttons=[(clean_text(label, TITLE_LIMIT), uri) for label, uri in buttons],
        )
    else:
        reason = f"no desktop notifications for platform {platform!r}"
    return None if reason is None else _one_line(reason)


def present(
    title: str,
    body: str,
    *,
    url: str | None = None,
    link_label: str | None = None,
    critical: bool = False,
    actions: Sequence[Mapping[str, Any]] = (),
    previous: Mapping[str, Any] | None = None,
    command: Sequence[str] | None = None,
    platform: str | None = None,
    env: Mapping[str, str],
    runner: Runner | None = None,
) -> tuple[str | None, dict[str, Any] | None]:
    """``notify`` with buttons, replacing the notice an earlier run showed: (None, a handle to withdraw it
    with later) when shown, else (why not, None). Never raises.

    ``actions`` are the buttons, each ``{"key", "label", "uri" or "argv"}``: on Linux a listener started
    with ``command`` (this clientcheck) shows the notification and acts on them (``notify.listener``);
    Windows protocol-activates a button's URI (``argv`` alone cannot be a toast's button); macOS's
    notifications have none. ``previous`` is the handle of the notice to replace."""
    try:
        platform = platform or _this_platform()
        if platform == "linux" and actions and command and _session_bus(env):
            from clientcheck.notify import listener

            request = _request(title, body, url, link_label, critical, actions, previous)
            return listener.start(request, command, env)
        if platform == "windows":
            from clientcheck.notify import windows

            buttons = [
                (str(a["label"]), str(a["uri"])) for a in actions if a.get("uri") and usable_action(str(a["uri"]))
            ]
            reason = _notify(title, body, url, link_label, critical, platform, env, runner, buttons)
            return reason, (None if reason else windows.handle())
        return _notify(title, body, url, link_label, critical, platform, env, runner), None
    except Exception as error:  # a notification must never fail the check: say why instead
        return _one_line(f"notification failed: {type(error).__name__}: {error}"), None


def withdraw(handle: Mapping[str, Any], *, env: Mapping[str, str], runner: Runner | None = None) -> str | None:
    """Take back a notice ``present`` showed (its ``handle``): it is no longer true. None when withdrawn or
    already gone, else why not. Never raises. macOS's notifications cannot be withdrawn."""
    try:
        if handle.get("platform") == "linux" and isinstance(handle.get("id"), int):
            from clientcheck.notify import dbus

            return dbus.close_notification(handle["id"], str(handle.get("server", "")), env)
        if handle.get("platform") == "windows":
            from clientcheck.notify import windows

            return windows.withdraw(env=env, runner=runner or run_command)
    except Exception as error:
        return _one_line(f"withdrawing the notification failed: {type(error).__name__}: {error}")
    return None  # macOS: osascript's notifications cannot be taken back


def _session_bus(env: Mapping[str, str]) -> bool:
    """Whether there is a session bus to try: without one (a console, a cron job) no listener is started,
    and the notice says why it could not be shown, as without buttons."""
    if sys.platform == "win32":
        return False
    from clientcheck.notify.dbus import _bus_sockets

    return bool(_bus_sockets(env)[0])


def _this_platform() -> str:
    from clientcheck.platforms import this_platform

    return this_platform()


def _request(
    title: str,
    body: str,
    url: str | None,
    link_label: str | None,
    critical: bool,
    actions: Sequence[Mapping[str, Any]],
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the Linux listener is given: the notification's text cleaned as ``notify`` cleans it."""
    url = url if url is not None and usable_url(url) else None
    return {
        "title": clean_text(title, TITLE_LIMIT),
        "body": clean_text(body, BODY_LIMIT),
        "url": url,
        "location": display_location(url) if url is not None else None,
        "link_label": clean_text(link_label, TITLE_LIMIT) if link_label else None,
        "critical": critical,
        "previous": dict(previous) if previous else None,
        "actions": [
            {
                "key": str(action["key"]),
                "label": clean_text(str(action["label"]), TITLE_LIMIT),
                "uri": action.get("uri") if action.get("uri") and usable_action(str(action["uri"])) else None,
                "argv": list(action["argv"]) if action.get("argv") else None,
            }
            for action in actions
        ],
    }


# A button may open these, as the catalog names them (never a rule file's URL): a vendor's page, the OS's
# update settings, the recheck handler autostart registers on Windows.
_ACTION_SCHEMES = ("https:", "ms-settings:", "x-apple.systempreferences:", "clientcheck:")


def usable_action(uri: str) -> bool:
    return uri.lower().startswith(_ACTION_SCHEMES) and all(" " < char < "\x7f" for char in uri)


def clean_text(text: str, limit: int) -> str:
    """Text every notification service takes, and that shows what it says: control characters but
    newline and tab, and bidi controls, written out (``\\x1b``, ``U+202E``: D-Bus forbids NUL, toast XML
    the other C0 controls, and an override would reorder what the person reads), no lone surrogates (a
    non-UTF-8 file name), at most ``limit`` characters (cut with an ellipsis)."""
    from clientcheck.visible import visible

    text = visible(text.replace("\r\n", "\n"))
    text = text.encode("utf-8", "replace").decode("utf-8").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def usable_url(url: str) -> bool:
    """A file:// or https:// address with nothing in it that could break a line or the markup around it."""
    return url.lower().startswith(_URL_SCHEMES) and all(" " < char < "\x7f" for char in url)


def display_location(url: str, *, windows: bool = False) -> str:
    """What to show a person for ``url``: a local path for file://, else the address itself."""
    if not url.lower().startswith("file://"):
        return url
    from clientcheck.percent import unquote

    host, slash, path = url[len("file://") :].partition("/")
    path = unquote(slash + path)
    if windows:
        if host and host.lower() != "localhost":
            return "\\\\" + host + path.replace("/", "\\")  # a UNC path: file://server/share/report.html
        if len(path) >= 3 and path[2] == ":" and path[1].isalpha():
            path = path[1:]  # file:///C:/Users/… -> C:/Users/…
        return path.replace("/", "\\")
    if host and host.lower() != "localhost":
        return url  # another machine's file: only the address says where
    return path


def _one_line(text: str) -> str:
    return " ".join(text.split())


def last_line(text: str) -> str:
    """The last non-empty line of a program's error output (where the reason usually is), shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 300 else line[:299] + "…"


def run_command(argv: Sequence[str], env: Mapping[str, str] | None, timeout: float) -> tuple[int, str]:
    """Start a notifier program and wait up to ``timeout`` seconds: (exit status, its error output).

    On a timeout the program is left to finish rather than killed (a cold PowerShell at a busy login can
    be slow, and the notification it is about to show is the point); TimeoutError says so.
    """
    import subprocess

    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        creationflags=_WINDOWS_NO_WINDOW if sys.platform == "win32" else 0,
    )
    try:
        _, error_output = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{os.path.basename(argv[0])} still running after {timeout:g} s") from None
    return process.returncode, error_output.decode("utf-8", "replace")
