"""Windows: a toast, raised by Windows PowerShell through WinRT's ToastNotificationManager.

A toast shows only for an AppUserModelID that a Start-menu shortcut carries (the installer creates it
with ``APP_ID``); for any other id Windows drops it without an error. The script is a constant, passed
with ``-EncodedCommand``; the text arrives in environment variables and is XML-escaped by PowerShell
itself, so nothing a message contains can change what runs or break the toast's XML. Windows PowerShell
5.1 (powershell.exe) is used, not PowerShell 7, which cannot load WinRT types this way.
"""

from __future__ import annotations

from clientcheck.notify import APP_ID as APP_ID

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from clientcheck.notify import Runner

ENV_APP_ID = "CLIENTCHECK_TOAST_APP_ID"
ENV_TITLE = "CLIENTCHECK_TOAST_TITLE"
ENV_BODY = "CLIENTCHECK_TOAST_BODY"
ENV_LOCATION = "CLIENTCHECK_TOAST_LOCATION"
ENV_URL = "CLIENTCHECK_TOAST_URL"
ENV_LINK_LABEL = "CLIENTCHECK_TOAST_LINK_LABEL"
ENV_LONG = "CLIENTCHECK_TOAST_LONG"
ENV_ACTION = "CLIENTCHECK_TOAST_ACTION{number}_{part}"  # part: URI or LABEL; number 1 to MAX_BUTTONS
MAX_BUTTONS = 4  # with the report's button, the five a toast may have
EXIT_TOASTS_OFF = 3  # the script's exit status when the user or a policy turned toasts off for the app
# Every toast carries the same tag and group: a new one replaces the last, and a run that finds nothing
# owed any more takes it back (ToastNotificationHistory.Remove).
TAG, GROUP = "notice", "clientcheck"
RECHECK_URI = "clientcheck:recheck"  # autostart registers the protocol: it runs "clientcheck login --force"

# Errors are written as one plain line: PowerShell would otherwise serialise them to stderr as CLIXML.
# With an https report, clicking the toast (or its button) opens it through protocol activation, which
# the shell handles, so it works after we have exited.
SCRIPT = """\
$ErrorActionPreference = 'Stop'
try {
    function Esc([string]$Text) { return [System.Security.SecurityElement]::Escape($Text) }
    $null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
    $null = [Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime]
    $lines = '<text>' + (Esc $env:CLIENTCHECK_TOAST_TITLE) + '</text>'
    foreach ($line in @($env:CLIENTCHECK_TOAST_BODY, $env:CLIENTCHECK_TOAST_LOCATION)) {
        if ($line) { $lines += '<text>' + (Esc $line) + '</text>' }
    }
    $attributes = ''
    $actions = ''
    if ($env:CLIENTCHECK_TOAST_URL) {
        $attributes = ' activationType="protocol" launch="' + (Esc $env:CLIENTCHECK_TOAST_URL) + '"'
        if ($env:CLIENTCHECK_TOAST_LINK_LABEL) {
            $actions += '<action activationType="protocol" arguments="' + (Esc $env:CLIENTCHECK_TOAST_URL) +
                '" content="' + (Esc $env:CLIENTCHECK_TOAST_LINK_LABEL) + '"/>'
        }
    }
    foreach ($n in 1..4) {
        $uri = [Environment]::GetEnvironmentVariable('CLIENTCHECK_TOAST_ACTION' + $n + '_URI')
        $label = [Environment]::GetEnvironmentVariable('CLIENTCHECK_TOAST_ACTION' + $n + '_LABEL')
        if ($uri -and $label) {
            $actions += '<action activationType="protocol" arguments="' + (Esc $uri) +
                '" content="' + (Esc $label) + '"/>'
        }
    }
    if ($actions) { $actions = '<actions>' + $actions + '</actions>' }
    if ($env:CLIENTCHECK_TOAST_LONG) { $attributes += ' duration="long"' }
    $xml = New-Object Windows.Data.Xml.Dom.XmlDocument
    $xml.LoadXml('<toast' + $attributes + '><visual><binding template="ToastGeneric">' + $lines +
        '</binding></visual>' + $actions + '</toast>')
    $appId = [string]$env:CLIENTCHECK_TOAST_APP_ID
    $notifier = [Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($appId)
    $setting = $null
    try { $setting = [string]$notifier.Setting } catch { }
    if ($setting -and $setting -ne 'Enabled') {
        [Console]::Error.WriteLine('toasts are turned off for ' + $appId + ' (' + $setting + ')')
        exit 3
    }
    $toast = [Windows.UI.Notifications.ToastNotification]::new($xml)
    $toast.Tag = 'notice'
    $toast.Group = 'clientcheck'
    $notifier.Show($toast)
} catch {
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 1
}
"""


# Takes back the toast a run showed, when a later run finds nothing owed: it is no longer true.
WITHDRAW_SCRIPT = """\
$ErrorActionPreference = 'Stop'
try {
    $null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
    $history = [Windows.UI.Notifications.ToastNotificationManager]::History
    $history.Remove('notice', 'clientcheck', [string]$env:CLIENTCHECK_TOAST_APP_ID)
} catch {
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 1
}
"""


def powershell_path(env: Mapping[str, str]) -> str:
    """Windows PowerShell by its full path: a logon task's PATH may be minimal, and a powershell.exe
    earlier on PATH must not be the one that runs."""
    root = env.get("SystemRoot") or env.get("SYSTEMROOT") or "C:\\Windows"
    return root.rstrip("\\") + "\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def encoded_script(script: str = SCRIPT) -> str:
    import base64

    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def _powershell(env: Mapping[str, str], script: str) -> list[str]:
    return [
        powershell_path(env),
        "-NoProfile",
        "-NonInteractive",
        "-NoLogo",
        "-WindowStyle",
        "Hidden",
        "-EncodedCommand",
        encoded_script(script),
    ]


def _child_env(env: Mapping[str, str]) -> dict[str, str]:
    child_env = {name: value for name, value in env.items() if not name.upper().startswith("CLIENTCHECK_TOAST_")}
    child_env[ENV_APP_ID] = APP_ID
    return child_env


def handle() -> dict[str, str]:
    """What a later run needs to take the toast back: it is found by its tag and group."""
    return {"platform": "windows", "tag": TAG, "group": GROUP}


def build_command(
    title: str,
    body: str,
    *,
    url: str | None,
    location: str | None,
    link_label: str | None,
    critical: bool,
    env: Mapping[str, str],
    buttons: Sequence[tuple[str, str]] = (),
) -> tuple[list[str], dict[str, str]]:
    """The PowerShell command line and the environment that carries the text to it. ``buttons`` are
    (label, URI) pairs, each opened by protocol activation when chosen (Windows does that after we exit)."""
    argv = _powershell(env, SCRIPT)
    child_env = _child_env(env)
    child_env[ENV_TITLE] = title
    child_env[ENV_BODY] = body
    if url is not None:
        child_env[ENV_LOCATION] = location or url  # a line of the toast: always readable, even if not clickable
        # A click opens the report by protocol activation, the launcher behind LaunchUriAsync, which is
        # documented to refuse file: URIs on the local machine: only an https report is made clickable.
        if url.lower().startswith("https:"):
            child_env[ENV_URL] = url
            if link_label:
                child_env[ENV_LINK_LABEL] = link_label
    if critical:
        child_env[ENV_LONG] = "1"
    for number, (label, uri) in enumerate(buttons[:MAX_BUTTONS], start=1):
        child_env[ENV_ACTION.format(number=number, part="URI")] = uri
        child_env[ENV_ACTION.format(number=number, part="LABEL")] = label
    return argv, child_env


def send(
    title: str,
    body: str,
    *,
    url: str | None,
    location: str | None,
    link_label: str | None,
    critical: bool,
    env: Mapping[str, str],
    runner: Runner,
    timeout: float | None = None,
    buttons: Sequence[tuple[str, str]] = (),
) -> str | None:
    from clientcheck.notify import COMMAND_TIMEOUT, last_line

    seconds = COMMAND_TIMEOUT if timeout is None else timeout
    argv, child_env = build_command(
        title, body, url=url, location=location, link_label=link_label, critical=critical, env=env, buttons=buttons
    )
    try:
        status, errors = runner(argv, child_env, seconds)
    except TimeoutError:
        return f"PowerShell did not finish within {seconds:g} s (left running; the toast may still appear)"
    except OSError as error:
        return f"PowerShell could not start: {error.strerror or error}"
    if status == EXIT_TOASTS_OFF:
        return f"Windows refused the toast: {last_line(errors)}"
    if status != 0:
        return f"PowerShell toast failed: {last_line(errors) or f'exit status {status}'}"
    return None


def withdraw(*, env: Mapping[str, str], runner: Runner, timeout: float | None = None) -> str | None:
    """Remove the toast a run showed from the screen and the notification centre."""
    from clientcheck.notify import COMMAND_TIMEOUT, last_line

    seconds = COMMAND_TIMEOUT if timeout is None else timeout
    try:
        status, errors = runner(_powershell(env, WITHDRAW_SCRIPT), _child_env(env), seconds)
    except TimeoutError:
        return f"PowerShell did not finish within {seconds:g} s (left running)"
    except OSError as error:
        return f"PowerShell could not start: {error.strerror or error}"
    return (
        f"PowerShell could not withdraw the toast: {last_line(errors) or f'exit status {status}'}" if status else None
    )
