"""Linux: an XDG autostart entry, systemd user units, or both.

- ``xdg``: one ``clientcheck.desktop`` in the autostart folder. Every XDG desktop (GNOME, KDE, Xfce, MATE,
  Cinnamon, LXQt, …) starts it when a graphical session starts; that is the login run.
- ``systemd``: ``clientcheck.service`` (oneshot, started only by the timer) and ``clientcheck.timer``,
  enabled by its ``timers.target.wants`` link: the first check a minute after the user's service manager
  starts (at the first login), then every 4 hours.
- ``auto`` (the default): the XDG entry for the login run and, where systemd is installed, the same units
  with the timer's first check 4 hours in, so nothing runs twice at login and long sessions are re-checked.

Installing one method removes our entries of the other, so two methods never both run at login.

For every user (``--system``) there is also the machine-level run: ``clientcheck-machine.service`` and
``clientcheck-machine.timer`` in ``/etc/systemd/system``, run by the system's service manager as root five
minutes after boot and then every hour: ``clientcheck ship --check --scheduled`` judges the machine and
ships its report to the collector. With a runner, the timer is started at once (``systemctl``).
"""

from __future__ import annotations

from clientcheck.autostart.entries import (
    AutostartError,
    Change,
    Entry,
    EntryStatus,
    entry_status,
    machine_command,
    prepare_folders,
    refuse_strangers,
    remove_entry,
    run,
    write_entry,
)
from clientcheck.autostart.templates import render
from clientcheck.i18n import N_

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from clientcheck.autostart.entries import Options

DESKTOP = "clientcheck.desktop"
CHECK_NOW = "clientcheck-check-now.desktop"
SERVICE = "clientcheck.service"
TIMER = "clientcheck.timer"
WANTS = "timers.target.wants"
KIND_DESKTOP = "XDG autostart entry"
KIND_CHECK_NOW = "applications menu entry"
KIND_SERVICE = "systemd user service"
KIND_TIMER = "systemd user timer"
KIND_ENABLE = "systemd timer enablement"
MACHINE_SERVICE = "clientcheck-machine.service"
MACHINE_TIMER = "clientcheck-machine.timer"
MACHINE_UNITS = "/etc/systemd/system"
KIND_MACHINE_SERVICE = "systemd system service (the machine run)"
KIND_MACHINE_TIMER = "systemd system timer (the machine run)"
KIND_MACHINE_ENABLE = "systemd system timer enablement (the machine run)"
FIRST_CHECK_SYSTEMD = "1min"  # systemd method: this is the login run
FIRST_CHECK_WITH_XDG = "4h"  # auto: the XDG entry did the login run; the timer only re-checks

# The menu entry's words, in every language clientcheck speaks (Name[de]=…), as the desktop shows them.
CHECK_NOW_NAME = N_("Check for updates now")
CHECK_NOW_COMMENT = N_("Check that this computer's operating system, browsers and PDF viewers are up to date")

# Desktop Entry Specification, "The Exec key": an argument containing any of these must be quoted.
_DESKTOP_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# Inside double quotes, these must be escaped with a backslash.
_DESKTOP_ESCAPED = frozenset('"`$\\')
# systemd command lines: a word made only of these needs no quotes.
_SYSTEMD_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:=@")
# systemd refuses a program path with any of these ("Executable name contains special characters").
_SYSTEMD_UNSAFE = frozenset("\"'\\")


def desktop_exec(argv: Sequence[str]) -> str:
    """``argv`` as a desktop entry's Exec value, exactly as the file holds it.

    Two layers, in the spec's order: an argument with a reserved character is double-quoted, with the
    double quote, backquote, dollar sign and backslash backslash-escaped inside; ``%`` is doubled (field
    codes). Then the whole value gets the key file's string escapes (backslash, newline, tab, carriage
    return): a backslash inside quotes ends up as four.
    """
    if "%" in argv[0]:
        # The spec writes it "%%", but GLib and systemd's autostart generator both look for the program
        # before undoing that, find nothing, and never start it.
        raise AutostartError(
            f"XDG autostart cannot start {argv[0]!r}: its path has a % sign",
            hint="install clientcheck in a folder without % in its path",
        )
    words = []
    for argument in argv:
        if argument == "" or any(char in _DESKTOP_RESERVED for char in argument):
            escaped = "".join("\\" + char if char in _DESKTOP_ESCAPED else char for char in argument)
            argument = f'"{escaped}"'
        words.append(argument.replace("%", "%%"))
    return desktop_string(" ".join(words))


def desktop_string(value: str) -> str:
    """A key file string value: backslash, newline, tab and carriage return escaped; a leading space kept."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return "\\s" + escaped[1:] if escaped.startswith(" ") else escaped


def systemd_command(argv: Sequence[str]) -> str:
    """``argv`` as a systemd ``ExecStart=`` command line.

    A word that is not plain is double-quoted, with C-style escapes for backslash, double quote, newline,
    tab and carriage return; ``%`` is doubled everywhere (specifiers). ``$`` is doubled in the arguments,
    where systemd expands variables, but not in the program's path, where it does not (``$$`` would stay
    two characters there).
    """
    program = argv[0]
    if any(char in _SYSTEMD_UNSAFE or ord(char) < 0x20 or char == "\x7f" for char in program):
        raise AutostartError(
            f"systemd cannot run {program!r}: its path has a quote, a backslash or a control character",
            hint="install clientcheck in a plainer folder, or use the xdg method",
        )
    words = [_systemd_word(program.replace("%", "%%"), program)]
    words += [_systemd_word(argument.replace("%", "%%").replace("$", "$$"), argument) for argument in argv[1:]]
    return " ".join(words)


def _systemd_word(word: str, original: str) -> str:
    if original and all(char in _SYSTEMD_PLAIN for char in original):
        return word
    escaped = (
        word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def systemd_path(path: str) -> str:
    """A path for settings like ``WorkingDirectory=``: taken as it is, apart from specifiers."""
    return path.replace("%", "%%")


def _config_home(options: Options) -> str:
    # The XDG base directory spec: XDG_CONFIG_HOME if absolute (a relative value must be ignored).
    configured = options.env_value("XDG_CONFIG_HOME")
    if configured and configured.startswith("/"):
        return configured.rstrip("/") or "/"
    home = options.env_value("HOME")
    if not home or not home.startswith("/"):
        raise AutostartError("HOME is not set to an absolute path: cannot tell where the user's settings are")
    return home.rstrip("/") + "/.config"


def _applications(options: Options) -> str:
    """Where the menu entry goes: the user's applications folder (XDG_DATA_HOME), or for every user the
    local administrator's (/usr/local/share: /usr/share/applications is the distribution's)."""
    if options.system:
        return "/usr/local/share/applications"
    configured = options.env_value("XDG_DATA_HOME")
    if configured and configured.startswith("/"):
        return (configured.rstrip("/") or "") + "/applications"
    home = options.env_value("HOME")
    if not home or not home.startswith("/"):
        raise AutostartError("HOME is not set to an absolute path: cannot tell where the user's settings are")
    return home.rstrip("/") + "/.local/share/applications"


def check_now_command(command: Sequence[str]) -> list[str]:
    """The login command, run at once: ``clientcheck login --force``."""
    return [*command, "--force"] if command and command[-1] == "login" else [*command, "login", "--force"]


def _translated(key: str, message: str) -> str:
    """``Key[de]=…`` lines for each language clientcheck has messages in, as the desktop spec localises."""
    from clientcheck.i18n import SOURCE_LANGUAGE, available, translation

    lines = []
    for language in sorted(available()):
        text = translation(language).gettext(message)
        if language != SOURCE_LANGUAGE and text != message:
            lines.append(f"{key}[{language}]={desktop_string(text)}\n")
    return "".join(lines)


def _folders(options: Options) -> tuple[str, str]:
    """The machine's autostart folder and systemd user unit folder."""
    if options.system:
        return "/etc/xdg/autostart", "/etc/systemd/user"
    config = _config_home(options)
    return f"{config}/autostart", f"{config}/systemd/user"


def has_systemd(options: Options) -> bool:
    """Whether systemd (and so a user service manager) is installed on the machine."""
    import os

    return any(
        os.path.isdir(options.host_path(folder))
        for folder in ("/usr/lib/systemd/user", "/lib/systemd/user", "/run/systemd/system")
    )


def has_system_manager(options: Options) -> bool:
    """Whether systemd runs the machine's services (its unit folders are there)."""
    import os

    return any(
        os.path.isdir(options.host_path(folder))
        for folder in ("/usr/lib/systemd/system", "/lib/systemd/system", "/run/systemd/system")
    )


def _machine_entries(options: Options, *, wanted: bool, removing: bool) -> list[Entry]:
    """The machine run's units and their enablement (``--system`` only)."""
    try:
        command = machine_command(options.command)
        service = render(
            MACHINE_SERVICE, {"exec_start": systemd_command(command), "program": systemd_path(command[0])}
        ).encode("utf-8")
        timer = render(MACHINE_TIMER, {}).encode("utf-8")
    except AutostartError:
        if wanted and not removing:
            raise
        service = timer = b""
    return [
        Entry(KIND_MACHINE_SERVICE, options.host_path(f"{MACHINE_UNITS}/{MACHINE_SERVICE}"), content=service),
        Entry(KIND_MACHINE_TIMER, options.host_path(f"{MACHINE_UNITS}/{MACHINE_TIMER}"), content=timer),
        Entry(
            KIND_MACHINE_ENABLE,
            options.host_path(f"{MACHINE_UNITS}/{WANTS}/{MACHINE_TIMER}"),
            link=f"../{MACHINE_TIMER}",
        ),
    ]


def _system_manager(options: Options) -> bool:
    """Whether to talk to the machine's service manager: for every user, with a runner (which acts on the
    machine itself: a staging tree's build gives none)."""
    return options.system and options.runner is not None


def _methods(options: Options) -> tuple[bool, bool, str]:
    """(XDG entry wanted, systemd units wanted, the timer's first check)."""
    if options.method == "xdg":
        return True, False, FIRST_CHECK_WITH_XDG
    if options.method == "systemd":
        return False, True, FIRST_CHECK_SYSTEMD
    return True, has_systemd(options), FIRST_CHECK_WITH_XDG


def _entries(options: Options, *, removing: bool = False) -> tuple[list[Entry], list[Entry]]:
    """(the entries the method wants, our other entries that must not be there).

    Only the wanted entries' contents matter (they are written, or compared); the others are only ever
    removed or reported, so a command one format cannot express (see ``desktop_exec``) does not stop them.
    """
    autostart, units = _folders(options)
    want_xdg, want_systemd, first_check = _methods(options)
    program_dir = _dirname(options.command[0])

    def content(wanted: bool, template: str, values: Callable[[], dict[str, str]]) -> bytes:
        try:
            return render(template, values()).encode("utf-8")
        except AutostartError:
            if wanted and not removing:
                raise
            return b""

    desktop = Entry(
        KIND_DESKTOP,
        options.host_path(f"{autostart}/{DESKTOP}"),
        content=content(
            want_xdg,
            DESKTOP,
            lambda: {"exec": desktop_exec(options.command), "working_directory": desktop_string(program_dir)},
        ),
    )
    service = Entry(
        KIND_SERVICE,
        options.host_path(f"{units}/{SERVICE}"),
        content=content(
            want_systemd,
            SERVICE,
            lambda: {"exec_start": systemd_command(options.command), "working_directory": systemd_path(program_dir)},
        ),
    )
    timer = Entry(
        KIND_TIMER,
        options.host_path(f"{units}/{TIMER}"),
        content=content(want_systemd, TIMER, lambda: {"first_check": first_check}),
    )
    # Relative, so the link holds in a staging tree and after the tree is copied to the machine.
    enable = Entry(KIND_ENABLE, options.host_path(f"{units}/{WANTS}/{TIMER}"), link=f"../{TIMER}")
    check_now = Entry(
        KIND_CHECK_NOW,
        options.host_path(f"{_applications(options)}/{CHECK_NOW}"),
        content=content(
            True,
            CHECK_NOW,
            lambda: {
                "name": desktop_string(CHECK_NOW_NAME),
                "names": _translated("Name", CHECK_NOW_NAME),
                "comment": desktop_string(CHECK_NOW_COMMENT),
                "comments": _translated("Comment", CHECK_NOW_COMMENT),
                "exec": desktop_exec(check_now_command(options.command)),
                "working_directory": desktop_string(program_dir),
            },
        ),
    )
    wanted: list[Entry] = []
    unwanted: list[Entry] = []
    (wanted if want_xdg else unwanted).append(desktop)
    (wanted if want_systemd else unwanted).extend([service, timer, enable])
    if options.system:
        want_machine = has_system_manager(options)
        machine = _machine_entries(options, wanted=want_machine, removing=removing)
        (wanted if want_machine else unwanted).extend(machine)
    wanted.append(check_now)  # whatever runs at login, the person can check again from the menu
    return wanted, unwanted


def _dirname(path: str) -> str:
    import posixpath

    return posixpath.dirname(path) or "/"


def _user_manager(options: Options) -> bool:
    """Whether to talk to the user's own service manager: per user, with a runner. (``systemctl`` is found
    on the user's own PATH: it acts with the user's own rights, on the user's own manager.)"""
    return not options.system and options.runner is not None


def install(options: Options) -> list[Change]:
    import os

    wanted, unwanted = _entries(options)
    refuse_strangers(wanted)
    present_unwanted = [entry for entry in unwanted if os.path.lexists(entry.path)]
    prepare_folders(
        [os.path.dirname(entry.path) for entry in wanted + present_unwanted],
        system=options.system,
        platform=options.platform,
    )
    changes: list[Change] = []
    timer_unwanted = any(entry.kind == KIND_TIMER for entry in present_unwanted)
    if timer_unwanted and _user_manager(options):
        stopped = run(options, "systemd", ["systemctl", "--user", "stop", TIMER], quiet_failure=True)
        changes += [stopped] if stopped else []
    for entry in unwanted:  # another method's entries: removed, and reported only when there were any
        removed = _remove(options, entry)
        changes += [removed] if removed.action != "absent" else []
    changes += [write_entry(entry) for entry in wanted]
    if _user_manager(options) and _systemd_changed(changes):
        changes += _ran(run(options, "systemd", ["systemctl", "--user", "daemon-reload"]))
        if any(entry.kind == KIND_TIMER for entry in wanted):
            changes += _ran(run(options, "systemd", ["systemctl", "--user", "restart", TIMER]))
    if _system_manager(options) and _machine_changed(changes):
        changes += _ran(run(options, "systemd", ["systemctl", "daemon-reload"]))
        if any(entry.kind == KIND_MACHINE_TIMER for entry in wanted):
            changes += _ran(run(options, "systemd", ["systemctl", "restart", MACHINE_TIMER]))
    if options.system and not has_system_manager(options):
        changes.append(
            Change(
                KIND_MACHINE_TIMER,
                MACHINE_TIMER,
                "skipped",
                "no systemd here: run '" + " ".join(machine_command(options.command)) + "' hourly as root (cron)",
            )
        )
    return changes


def uninstall(options: Options) -> list[Change]:
    import os

    wanted, unwanted = _entries(options, removing=True)
    everything = wanted + unwanted
    present = [entry for entry in everything if os.path.lexists(entry.path)]
    prepare_folders(
        [os.path.dirname(entry.path) for entry in present], system=options.system, platform=options.platform
    )
    changes: list[Change] = []
    if _user_manager(options) and any(entry.kind == KIND_TIMER for entry in present):
        stopped = run(options, "systemd", ["systemctl", "--user", "stop", TIMER], quiet_failure=True)
        changes += [stopped] if stopped else []
    if _system_manager(options) and any(entry.kind == KIND_MACHINE_TIMER for entry in present):
        stopped = run(options, "systemd", ["systemctl", "stop", MACHINE_TIMER], quiet_failure=True)
        changes += [stopped] if stopped else []
    changes += [_remove(options, entry) for entry in everything]
    if _user_manager(options) and _systemd_changed(changes):
        changes += _ran(run(options, "systemd", ["systemctl", "--user", "daemon-reload"]))
    if _system_manager(options) and _machine_changed(changes):
        changes += _ran(run(options, "systemd", ["systemctl", "daemon-reload"]))
    return changes


def status(options: Options) -> list[EntryStatus]:
    wanted, unwanted = _entries(options)
    found = [entry_status(entry) for entry in wanted] + [entry_status(entry, expected=False) for entry in unwanted]
    return [item for item in found if item is not None]


def _remove(options: Options, entry: Entry) -> Change:
    """Remove one of our entries, and the folders that leaves empty: per user, up to the user's config
    folder; for every user, only ``timers.target.wants`` (/etc/xdg/autostart and /etc/systemd/user belong
    to the system)."""
    import os

    if options.system:
        enablement = entry.kind in (KIND_ENABLE, KIND_MACHINE_ENABLE)
        boundary = os.path.dirname(os.path.dirname(entry.path)) if enablement else None
        if entry.kind == KIND_CHECK_NOW:
            boundary = options.host_path("/")  # /usr/local/share/applications, if install made it
    elif entry.kind == KIND_CHECK_NOW:
        # ~/.local/share/applications is every application's: it goes only if install made it, and it is empty.
        boundary = options.host_path(options.env_value("HOME") or "/")
    else:
        boundary = options.host_path(_config_home(options))
    return remove_entry(entry, system=options.system, platform=options.platform, prune_to=boundary)


def _systemd_changed(changes: list[Change]) -> bool:
    return any(
        change.kind in (KIND_SERVICE, KIND_TIMER, KIND_ENABLE) and change.action in ("installed", "updated", "removed")
        for change in changes
    )


def _machine_changed(changes: list[Change]) -> bool:
    machine = (KIND_MACHINE_SERVICE, KIND_MACHINE_TIMER, KIND_MACHINE_ENABLE)
    return any(change.kind in machine and change.action in ("installed", "updated", "removed") for change in changes)


def _ran(change: Change | None) -> list[Change]:
    return [change] if change is not None else []
