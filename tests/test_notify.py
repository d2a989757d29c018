"""clientcheck.notify: the common layer, and the macOS and Windows notifiers through their command lines.

osascript and Windows PowerShell do not exist on this Linux machine, so the macOS and Windows paths are
checked by the exact argv and environment they would start, by a recording runner; the default runner
itself (``run_command``) is run for real with real processes. Linux is in test_notify_linux.py.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from clientcheck.notify import (
    APP_ID,
    BODY_LIMIT,
    TITLE_LIMIT,
    clean_text,
    display_location,
    macos,
    notify,
    run_command,
    usable_url,
    windows,
)


class Recorder:
    """A runner that records what it was asked to start and answers as told."""

    def __init__(self, status: int = 0, errors: str = "", raises: BaseException | None = None) -> None:
        self.calls: list[tuple[list[str], dict[str, str] | None, float]] = []
        self.status = status
        self.errors = errors
        self.raises = raises

    def __call__(self, argv, env, timeout):
        self.calls.append((list(argv), dict(env) if env is not None else None, timeout))
        if self.raises is not None:
            raise self.raises
        return self.status, self.errors

    @property
    def argv(self) -> list[str]:
        assert len(self.calls) == 1
        return self.calls[0][0]

    @property
    def env(self) -> dict[str, str] | None:
        assert len(self.calls) == 1
        return self.calls[0][1]


WINDOWS_ENV = {
    "SystemRoot": "C:\\WINDOWS",
    "USERPROFILE": "C:\\Users\\ana",
    "PATH": "C:\\WINDOWS\\system32;C:\\WINDOWS",
    "CLIENTCHECK_TOAST_URL": "https://stale.example/left-over",  # must not reach the script
}
REPORT_URL = "file:///C:/Users/ana/AppData/Local/clientcheck/report%20today.html"


# --- text and addresses -------------------------------------------------------------------------------


def test_clean_text_writes_out_what_services_refuse_or_a_terminal_acts_on():
    assert clean_text("a\0b\x07c\x1b[31md\r\ne\rf\tg", 100) == "a\\x00b\\x07c\\x1b[31md\ne\\x0df\tg"
    # Shown, not acted on: an override would reorder the text, an isolate hide where it ends.
    assert (
        clean_text("invoice\u202efdp.exe \u2066x\u2069 \u200fok", 100) == "invoiceU+202Efdp.exe U+2066xU+2069 \u200fok"
    )
    assert clean_text("  padded \n", 100) == "padded"
    assert clean_text("bad \udcff byte", 100) == "bad ? byte"  # a lone surrogate from a non-UTF-8 name


def test_clean_text_cuts_at_the_limit_with_an_ellipsis():
    assert clean_text("x" * 10, 10) == "x" * 10
    assert clean_text("x" * 11, 10) == "x" * 9 + "…"
    assert clean_text("word " * 5, 10) == "word word…"


@pytest.mark.parametrize(
    ("url", "usable"),
    [
        ("file:///home/ana/report.html", True),
        ("https://it.example.org/clientcheck/ana.html", True),
        ("FILE:///tmp/r.html", True),
        ("http://it.example.org/report", False),  # only https over a network
        ("javascript:alert(1)", False),
        ("file:///tmp/a b.html", False),  # not percent-encoded
        ("file:///tmp/r.html\nInjected line", False),
        ("https://example.org/\u00e4", False),
        ("", False),
    ],
)
def test_usable_url(url, usable):
    assert usable_url(url) is usable


@pytest.mark.parametrize(
    ("url", "windows", "shown"),
    [
        (
            "file:///home/ana/.cache/clientcheck/report%20today.html",
            False,
            "/home/ana/.cache/clientcheck/report today.html",
        ),
        ("file://localhost/tmp/r.html", False, "/tmp/r.html"),
        ("file:///tmp/caf%C3%A9.html", False, "/tmp/café.html"),
        ("file://server/share/r.html", False, "file://server/share/r.html"),
        ("https://it.example.org/r?id=1", False, "https://it.example.org/r?id=1"),
        (REPORT_URL, True, "C:\\Users\\ana\\AppData\\Local\\clientcheck\\report today.html"),
        ("file://fileserver/reports/ana.html", True, "\\\\fileserver\\reports\\ana.html"),
    ],
)
def test_display_location(url, windows, shown):
    assert display_location(url, windows=windows) == shown


def test_unknown_platform_gives_a_reason():
    assert notify("t", "b", platform="haiku", env={}) == "no desktop notifications for platform 'haiku'"


def test_never_raises():
    # A runner that fails in a way nobody planned for, and arguments of the wrong type.
    reason = notify("t", "b", platform="macos", env={}, runner=Recorder(raises=RuntimeError("boom\nsecond line")))
    assert reason == "notification failed: RuntimeError: boom second line"
    reason = notify(None, None, platform="linux", env={})  # type: ignore[arg-type]
    assert reason is not None and reason.startswith("notification failed: AttributeError")


def test_importing_notify_costs_nothing_at_start_up():
    # clientcheck login imports it on every run; the platform modules, sockets and subprocess wait for use.
    code = (
        "import sys, clientcheck.notify\n"
        "heavy = {'socket', 'subprocess', 'urllib.parse', 'base64', 'typing', 'clientcheck.notify.dbus',"
        " 'clientcheck.notify.macos', 'clientcheck.notify.windows', 'jeepney'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- macOS --------------------------------------------------------------------------------------------

APPLESCRIPT = [
    "-e",
    "on run argv",
    "-e",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "-e",
    "end run",
]


def test_macos_argv():
    runner = Recorder()
    assert notify("Updates owed", "Update Safari.", platform="macos", env={"HOME": "/Users/ana"}, runner=runner) is None
    assert runner.argv == ["/usr/bin/osascript", *APPLESCRIPT, "--", "Updates owed", "Update Safari."]
    assert runner.env == {"HOME": "/Users/ana"}
    assert runner.calls[0][2] == 3.0


def test_macos_text_is_never_part_of_the_script():
    hostile = 'x" & (do shell script "touch /tmp/pwned") & "'
    runner = Recorder()
    assert notify("-t", hostile + "\\", platform="macos", env={}, runner=runner) is None
    # The script lines are the constant ones; the text is two arguments after "--", as it was given.
    assert runner.argv[:8] == ["/usr/bin/osascript", *APPLESCRIPT, "--"]
    assert runner.argv[8:] == ["-t", hostile + "\\"]


def test_macos_report_path_is_the_last_line():
    runner = Recorder()
    url = "file:///Users/ana/Library/Caches/clientcheck/report%20today.html"
    assert notify("Updates owed", "Update Safari.", url=url, platform="macos", env={}, runner=runner) is None
    assert runner.argv[-1] == "Update Safari.\n/Users/ana/Library/Caches/clientcheck/report today.html"


def test_macos_non_ascii_and_long_text():
    runner = Recorder()
    title = "Aktualisierungen fällig"
    assert notify(title, "ブラウザを更新してください" * 200, platform="macos", env={}, runner=runner) is None
    assert runner.argv[-2] == title
    assert len(runner.argv[-1]) == BODY_LIMIT
    assert runner.argv[-1].startswith("ブラウザを更新してください")


def test_macos_env_none_inherits():
    runner = Recorder()
    macos.send("t", "b", location=None, env=None, runner=runner)
    assert runner.calls[0][1] is None


@pytest.mark.parametrize(
    ("runner", "reason"),
    [
        (
            Recorder(1, "0:88: execution error: Not authorized to send Apple events to System Events. (-1743)\n"),
            "osascript failed: 0:88: execution error: Not authorized to send Apple events to System Events. (-1743)",
        ),
        (Recorder(1, ""), "osascript failed: exit status 1"),
        (
            Recorder(raises=FileNotFoundError(2, "No such file or directory")),
            "osascript could not start: No such file or directory",
        ),
        (Recorder(raises=TimeoutError()), "osascript did not finish within 3 s (left running)"),
    ],
)
def test_macos_failures(runner, reason):
    assert notify("t", "b", platform="macos", env={}, runner=runner) == reason


def test_macos_with_the_real_runner_where_there_is_no_osascript():
    # This machine has no /usr/bin/osascript: the real runner's failure becomes the reason.
    assert not os.path.exists("/usr/bin/osascript")
    reason = notify("t", "b", platform="macos", env={"PATH": "/usr/bin"})
    assert reason == "osascript could not start: No such file or directory"


# --- Windows ------------------------------------------------------------------------------------------


def decoded_script(argv: list[str]) -> str:
    return base64.b64decode(argv[argv.index("-EncodedCommand") + 1]).decode("utf-16-le")


def test_windows_argv():
    runner = Recorder()
    assert notify("Updates owed", "Update Edge.", platform="windows", env=WINDOWS_ENV, runner=runner) is None
    argv = runner.argv
    assert argv[:7] == [
        "C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "-NoProfile",
        "-NonInteractive",
        "-NoLogo",
        "-WindowStyle",
        "Hidden",
        "-EncodedCommand",
    ]
    assert len(argv) == 8
    assert decoded_script(argv) == windows.SCRIPT
    assert runner.calls[0][2] == 3.0


def test_windows_powershell_path_without_systemroot():
    assert windows.powershell_path({}) == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    assert (
        windows.powershell_path({"SYSTEMROOT": "D:\\Win\\"})
        == "D:\\Win\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    )


def test_windows_text_travels_in_the_environment():
    runner = Recorder()
    title = "Aktualisierungen fällig"
    body = "Aktualisieren Sie Edge </text><script>\"&'\nブラウザを更新してください"
    reason = notify(
        title, body, url=REPORT_URL, link_label="Bericht öffnen", platform="windows", env=WINDOWS_ENV, runner=runner
    )
    assert reason is None
    env = runner.env
    assert env is not None
    assert env["CLIENTCHECK_TOAST_APP_ID"] == APP_ID == "clientcheck"
    assert env["CLIENTCHECK_TOAST_TITLE"] == title
    assert env["CLIENTCHECK_TOAST_BODY"] == body
    # A local report is shown as its path: protocol activation does not open local file: URIs.
    assert env["CLIENTCHECK_TOAST_LOCATION"] == "C:\\Users\\ana\\AppData\\Local\\clientcheck\\report today.html"
    assert "CLIENTCHECK_TOAST_URL" not in env
    assert "CLIENTCHECK_TOAST_LINK_LABEL" not in env
    assert "CLIENTCHECK_TOAST_LONG" not in env
    # The rest of the environment is passed on (PowerShell needs SystemRoot, PATH…).
    assert env["SystemRoot"] == "C:\\WINDOWS"
    assert env["USERPROFILE"] == "C:\\Users\\ana"
    # None of the text is in the script, which is the same constant whatever the text.
    script = decoded_script(runner.argv)
    assert script == windows.SCRIPT
    for text in (title, "Aktualisieren", "ブラウザ", "Bericht", "report"):
        assert text not in script


def test_windows_https_report_is_clickable():
    runner = Recorder()
    url = "https://it.example.org/clientcheck/reports/PC-0042.html"
    assert (
        notify("t", "b", url=url, link_label="Open the report", platform="windows", env=WINDOWS_ENV, runner=runner)
        is None
    )
    assert runner.env is not None
    assert runner.env["CLIENTCHECK_TOAST_URL"] == url
    assert runner.env["CLIENTCHECK_TOAST_LOCATION"] == url
    assert runner.env["CLIENTCHECK_TOAST_LINK_LABEL"] == "Open the report"


def test_windows_stale_variables_are_not_inherited():
    runner = Recorder()
    assert notify("t", "b", platform="windows", env=WINDOWS_ENV, runner=runner) is None
    assert runner.env is not None
    assert "CLIENTCHECK_TOAST_URL" not in runner.env
    assert "CLIENTCHECK_TOAST_LOCATION" not in runner.env


def test_windows_critical_is_a_long_toast():
    runner = Recorder()
    assert notify("t", "b", critical=True, platform="windows", env=WINDOWS_ENV, runner=runner) is None
    assert runner.env is not None and runner.env["CLIENTCHECK_TOAST_LONG"] == "1"


def test_windows_values_fit_in_a_command_line_and_an_environment():
    # CreateProcess allows 32,767 characters of command line, and as much per variable.
    runner = Recorder()
    assert notify("t" * 10_000, "b\0" * 100_000, platform="windows", env=WINDOWS_ENV, runner=runner) is None
    assert len(subprocess.list2cmdline(runner.argv)) < 32_767
    assert runner.env is not None
    assert len(runner.env["CLIENTCHECK_TOAST_TITLE"]) == TITLE_LIMIT
    assert len(runner.env["CLIENTCHECK_TOAST_BODY"]) == BODY_LIMIT
    assert all("\0" not in value for value in runner.env.values())


def test_windows_script_reads_every_variable_it_is_given():
    names = [value for key, value in vars(windows).items() if key.startswith("ENV_") and key != "ENV_ACTION"]
    assert len(names) == 7
    for name in names:
        assert f"$env:{name}" in windows.SCRIPT
    # The buttons' variables, numbered 1 to MAX_BUTTONS, are read by their built names.
    assert windows.ENV_ACTION == "CLIENTCHECK_TOAST_ACTION{number}_{part}"
    assert f"foreach ($n in 1..{windows.MAX_BUTTONS})" in windows.SCRIPT
    assert "'CLIENTCHECK_TOAST_ACTION' + $n + '_URI'" in windows.SCRIPT
    assert "'CLIENTCHECK_TOAST_ACTION' + $n + '_LABEL'" in windows.SCRIPT


def test_windows_script_escapes_everything_it_puts_in_the_xml():
    # Every value that goes into the toast's XML text goes through Esc (SecurityElement.Escape) first.
    xml_lines = [line for line in windows.SCRIPT.splitlines() if "'<" in line or "'\"" in line]
    assert len(xml_lines) >= 5
    for line in xml_lines:
        unescaped = re.sub(r"\(Esc \$(env:\w+|line|uri|label)\)|if \(\$[\w:]+\)", "", line)  # conditions only test
        assert "$env:" not in unescaped, line
        assert not re.search(r"\$(line|uri|label)\b", unescaped), line


@pytest.mark.parametrize(
    ("runner", "reason"),
    [
        (
            Recorder(3, "toasts are turned off for clientcheck (DisabledForUser)\r\n"),
            "Windows refused the toast: toasts are turned off for clientcheck (DisabledForUser)",
        ),
        (
            Recorder(1, "Unable to find type [Windows.UI.Notifications.ToastNotificationManager].\r\n"),
            "PowerShell toast failed: Unable to find type [Windows.UI.Notifications.ToastNotificationManager].",
        ),
        (Recorder(1, ""), "PowerShell toast failed: exit status 1"),
        (
            Recorder(raises=FileNotFoundError(2, "The system cannot find the file specified")),
            "PowerShell could not start: The system cannot find the file specified",
        ),
        (
            Recorder(raises=TimeoutError()),
            "PowerShell did not finish within 3 s (left running; the toast may still appear)",
        ),
    ],
)
def test_windows_failures(runner, reason):
    assert notify("t", "b", platform="windows", env=WINDOWS_ENV, runner=runner) == reason


def test_windows_with_the_real_runner_where_there_is_no_powershell():
    reason = notify("t", "b", platform="windows", env=WINDOWS_ENV)
    assert reason == "PowerShell could not start: No such file or directory"


# --- the default runner, with real processes ----------------------------------------------------------


def test_run_command_returns_status_and_error_output():
    code = "import sys; print('ignored'); sys.stderr.write('first\\nthe reason\\n'); sys.exit(3)"
    status, errors = run_command([sys.executable, "-c", code], None, 10)
    assert (status, errors) == (3, "first\nthe reason\n")


def test_run_command_passes_the_environment():
    code = "import os, sys; sys.stderr.write(os.environ['CLIENTCHECK_TOAST_TITLE'])"
    env = {**os.environ, "CLIENTCHECK_TOAST_TITLE": "Größe ブラウザ"}
    assert run_command([sys.executable, "-c", code], env, 10) == (0, "Größe ブラウザ")


def test_run_command_survives_output_that_is_not_utf8():
    code = "import sys; sys.stderr.buffer.write(b'caf\\xe9')"
    assert run_command([sys.executable, "-c", code], None, 10) == (0, "caf\ufffd")


def test_run_command_program_missing():
    with pytest.raises(FileNotFoundError):
        run_command(["/nonexistent/osascript"], None, 10)


def test_run_command_leaves_a_slow_program_running(tmp_path):
    # It gave up waiting, and did not end the program: it is still running once run_command has returned (a
    # run_command that waited for it to finish would raise nothing, one that killed it would leave no pid).
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    with pytest.raises(TimeoutError, match=r"still running after 0\.5 s"):
        run_command([sys.executable, "-c", code], None, 0.5)
    for _ in range(600):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)  # still alive: it was left to finish
    finally:
        os.kill(pid, signal.SIGTERM)


# --- buttons, replacing and taking back ----------------------------------------------------------------


def test_windows_buttons_open_their_uris_and_only_uris():
    from clientcheck.notify import present

    runner = Recorder()
    reason, handle = present(
        "1 update owed on this computer",
        "• Windows 10 …",
        actions=[
            {"key": "fix-0", "label": "Open Windows Update", "uri": "ms-settings:windowsupdate", "argv": None},
            {"key": "fix-1", "label": "Update Firefox", "uri": None, "argv": ["C:\\firefox.exe", "about:"]},
            {"key": "fix-2", "label": "Evil", "uri": "javascript:alert(1)", "argv": None},
            {"key": "recheck", "label": "Check again", "uri": "clientcheck:recheck", "argv": ["x"]},
        ],
        platform="windows",
        env=WINDOWS_ENV,
        runner=runner,
    )
    assert (reason, handle) == (None, {"platform": "windows", "tag": "notice", "group": "clientcheck"})
    env = runner.env
    assert env is not None
    buttons = {key: value for key, value in env.items() if key.startswith("CLIENTCHECK_TOAST_ACTION")}
    assert buttons == {
        "CLIENTCHECK_TOAST_ACTION1_URI": "ms-settings:windowsupdate",
        "CLIENTCHECK_TOAST_ACTION1_LABEL": "Open Windows Update",
        "CLIENTCHECK_TOAST_ACTION2_URI": "clientcheck:recheck",
        "CLIENTCHECK_TOAST_ACTION2_LABEL": "Check again",
    }
    # Every toast carries the same tag and group: the next one replaces it.
    assert "$toast.Tag = 'notice'" in windows.SCRIPT and "$toast.Group = 'clientcheck'" in windows.SCRIPT


def test_windows_withdraws_the_toast_by_its_tag():
    from clientcheck.notify import withdraw

    runner = Recorder()
    assert (
        withdraw({"platform": "windows", "tag": "notice", "group": "clientcheck"}, env=WINDOWS_ENV, runner=runner)
        is None
    )
    argv = runner.argv
    assert argv[0] == windows.powershell_path(WINDOWS_ENV)
    script = base64.b64decode(argv[-1]).decode("utf-16-le")
    assert script == windows.WITHDRAW_SCRIPT
    assert "ToastNotificationManager]::History" in script
    assert "$history.Remove('notice', 'clientcheck', [string]$env:CLIENTCHECK_TOAST_APP_ID)" in script
    assert runner.env is not None and runner.env["CLIENTCHECK_TOAST_APP_ID"] == "clientcheck"
    failing = Recorder(1, "Element not found.\r\n")
    assert withdraw({"platform": "windows"}, env=WINDOWS_ENV, runner=failing) == (
        "PowerShell could not withdraw the toast: Element not found."
    )


def test_macos_notices_have_no_buttons_and_cannot_be_taken_back():
    from clientcheck.notify import present, withdraw

    runner = Recorder()
    reason, handle = present(
        "t",
        "b",
        actions=[{"key": "fix-0", "label": "Open Software Update", "uri": "x-apple.systempreferences:x", "argv": None}],
        platform="macos",
        env={},
        runner=runner,
    )
    assert (reason, handle) == (None, None)
    assert runner.argv[-2:] == ["t", "b"]
    assert withdraw({"platform": "macos"}, env={}) is None


def test_linux_without_a_session_bus_starts_no_listener(monkeypatch, tmp_path):
    from clientcheck.notify import present

    def refuse(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    reason, handle = present(
        "t",
        "b",
        actions=[{"key": "recheck", "label": "Check again", "argv": ["/usr/bin/clientcheck", "login", "--force"]}],
        command=["/usr/bin/clientcheck"],
        platform="linux",
        env={"XDG_RUNTIME_DIR": str(tmp_path)},
    )
    assert (reason, handle) == (f"no session bus (DBUS_SESSION_BUS_ADDRESS unset, no socket at {tmp_path}/bus)", None)
