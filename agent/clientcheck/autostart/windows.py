"""Windows: a scheduled task that runs at logon, plus the Start-menu shortcut that toast notifications need.

- The task is defined in XML (``clientcheck-task.xml``, kept under ``%LOCALAPPDATA%\\clientcheck\\autostart``
  or ``%ProgramData%\\…`` so ``status`` can compare it) and registered with ``schtasks /Create /XML``: a
  ``LogonTrigger`` 30 seconds after logon, repeated every 4 hours, running with the user's own rights.
  Per user, the trigger and principal name the user (a standard user may register that); for every user
  (``--system``, administrators only) the trigger names no one and the principal is the Users group.
- The shortcut ``clientcheck.lnk`` in the Start menu's Programs folder carries the AppUserModelID
  ``clientcheck``: Windows shows a program's toasts only when a shortcut with its ID exists.
- "Check for updates now": a second Start-menu shortcut, named in the person's language, that runs
  ``clientcheck login --force``; and the ``clientcheck:`` protocol (``HKEY_CURRENT_USER\\Software\\Classes``,
  or the machine's for ``--system``), whose handler runs the same, as the "check again" button of a toast
  opens it: a toast's button can only open a URI. The handler is given no part of the URI: whatever link
  opens it, it runs the same fixed command. Registered from a .reg file kept beside the task's definition
  (``reg import``), removed with ``reg delete``.

Per-user tasks are named ``\\clientcheck\\login-<user>`` and the machine's ``\\clientcheck\\login``: task names
are machine-wide, and two users' own tasks must not replace each other.

For every user (``--system``) there is also the machine-level run: the task ``\\clientcheck\\machine``
(``clientcheck-machine-task.xml``), run as SYSTEM five minutes after boot and every hour:
``clientcheck ship --check --scheduled`` judges the computer and ships its report to the collector.
"""

from __future__ import annotations

from clientcheck.autostart.entries import (
    MARKER,
    AutostartError,
    Change,
    Entry,
    EntryStatus,
    NeedsAdminError,
    admin_hint,
    entry_status,
    first_line,
    machine_command,
    prepare_folders,
    refuse_strangers,
    remove_entry,
    write_entry,
)
from clientcheck.autostart.linux import CHECK_NOW_COMMENT, CHECK_NOW_NAME, check_now_command
from clientcheck.autostart.shelllink import ShellLinkError, shell_link
from clientcheck.autostart.templates import render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from clientcheck.autostart.entries import Options

APP_USER_MODEL_ID = "clientcheck"
TASK_FOLDER = "\\clientcheck"
TASK_XML = "clientcheck-task.xml"
MACHINE_TASK_XML = "clientcheck-machine-task.xml"
MACHINE_TASK = "\\clientcheck\\machine"
SHORTCUT = "clientcheck.lnk"
START_MENU_PROGRAMS = "Microsoft\\Windows\\Start Menu\\Programs"  # below %APPDATA% and %ProgramData%
USERS_GROUP_SID = "S-1-5-32-545"  # BUILTIN\Users, whatever the system's language calls it
MAX_PATH = 260  # Task Scheduler's pathType: Command and WorkingDirectory
KIND_TASK = "scheduled task"
KIND_TASK_XML = "scheduled task definition"
KIND_SHORTCUT = "Start-menu shortcut"
KIND_MACHINE_TASK = "scheduled task (the machine run, as SYSTEM)"
KIND_MACHINE_TASK_XML = "scheduled task definition (the machine run)"
KIND_CHECK_NOW = "Start-menu shortcut: check for updates now"
KIND_PROTOCOL_FILE = "recheck protocol definition"
KIND_PROTOCOL = "recheck protocol"
PROTOCOL = "clientcheck"  # clientcheck:recheck, a toast's "check again" (notify/windows.py: RECHECK_URI)
PROTOCOL_REG = "clientcheck-protocol.reg"
_NOT_IN_TASK_NAMES = frozenset('\\/:*?"<>|')
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_SHORTCUT_DESCRIPTION = f"Checks that this computer's software is up to date. {MARKER}."


def windows_command_line(arguments: Sequence[str]) -> str:
    """Arguments as one command line that CommandLineToArgvW (and the C runtime) splits back the same way.

    An argument with a space, a tab or a quote (or an empty one) is quoted; backslashes are doubled only
    where they come before a quote, as those rules read them.
    """
    parts = []
    for argument in arguments:
        if argument and not any(char in argument for char in ' \t"'):
            parts.append(argument)
            continue
        quoted = []
        backslashes = 0
        for char in argument:
            if char == "\\":
                backslashes += 1
                continue
            if char == '"':
                quoted.append("\\" * (backslashes * 2 + 1) + '"')
            else:
                quoted.append("\\" * backslashes + char)
            backslashes = 0
        quoted.append("\\" * (backslashes * 2))  # before the closing quote
        parts.append('"' + "".join(quoted) + '"')
    return " ".join(parts)


def xml_text(value: str) -> str:
    """``value`` as XML character data."""
    if any(ord(char) < 0x20 and char not in "\t\n\r" for char in value):
        raise AutostartError(f"{value!r} has control characters, which a task definition cannot hold")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _folder(options: Options, name: str, fallback: str | None = None) -> str:
    value = options.env_value(name) or (options.env_value(fallback) if fallback else None)
    if not value:
        raise AutostartError(f"%{name}% is not set: cannot tell where Windows keeps it")
    return value.rstrip("\\")


def _user(options: Options) -> tuple[str, str]:
    """(the user's name, the account as Task Scheduler takes it: DOMAIN\\name, or name alone)."""
    name = options.env_value("USERNAME")
    if not name:
        raise AutostartError("%USERNAME% is not set: cannot tell whose logon should run clientcheck")
    domain = options.env_value("USERDOMAIN")
    return name, f"{domain}\\{name}" if domain else name


def task_name(options: Options) -> str:
    if options.system:
        return f"{TASK_FOLDER}\\login"
    name, _ = _user(options)
    safe = "".join("_" if char in _NOT_IN_TASK_NAMES or ord(char) < 0x20 else char for char in name)
    return f"{TASK_FOLDER}\\login-{safe}"


def _paths(options: Options) -> tuple[str, str]:
    """(the task definition's path, the shortcut's path) on the machine."""
    if options.system:
        data = _folder(options, "ProgramData", "ALLUSERSPROFILE")
        local, roaming = data, data
    else:
        local, roaming = _folder(options, "LOCALAPPDATA"), _folder(options, "APPDATA")
    return f"{local}\\clientcheck\\autostart\\{TASK_XML}", f"{roaming}\\{START_MENU_PROGRAMS}\\{SHORTCUT}"


def schtasks(options: Options) -> str:
    """schtasks.exe by its full path: a task registered through whatever ``schtasks`` PATH finds first
    would be a hole."""
    system_root = (options.env_value("SystemRoot") or options.env_value("windir") or "C:\\Windows").rstrip("\\")
    return f"{system_root}\\System32\\schtasks.exe"


def task_definition(options: Options) -> str:
    """The task's XML text, declared as UTF-16 (what ``task_file`` encodes it as), with Windows line ends."""
    import ntpath

    program = options.command[0]
    working_directory = ntpath.dirname(program)
    for path in (program, working_directory):
        if len(path) > MAX_PATH:
            raise AutostartError(f"{path} is longer than the {MAX_PATH} characters a scheduled task accepts")
    if options.system:
        logon_user = ""  # any user's logon
        principal = f"\n      <GroupId>{USERS_GROUP_SID}</GroupId>"
    else:
        _, account = _user(options)
        logon_user = f"\n      <UserId>{xml_text(account)}</UserId>"
        principal = f"\n      <UserId>{xml_text(account)}</UserId>\n      <LogonType>InteractiveToken</LogonType>"
    text = render(
        TASK_XML,
        {
            "logon_user": logon_user,
            "principal": principal,
            "program": xml_text(program),
            "arguments": xml_text(windows_command_line(options.command[1:])),
            "working_directory": xml_text(working_directory),
        },
    )
    if not text.startswith(_XML_DECLARATION):
        raise AutostartError(f"the template {TASK_XML} does not start with {_XML_DECLARATION}")
    text = '<?xml version="1.0" encoding="UTF-16"?>' + text[len(_XML_DECLARATION) :]
    return text.replace("\n", "\r\n")


def machine_task_definition(options: Options) -> str:
    """The machine run's task: as SYSTEM, at boot and every hour."""
    import ntpath

    command = machine_command(options.command)
    program = command[0]
    working_directory = ntpath.dirname(program)
    for path in (program, working_directory):
        if len(path) > MAX_PATH:
            raise AutostartError(f"{path} is longer than the {MAX_PATH} characters a scheduled task accepts")
    text = render(
        MACHINE_TASK_XML,
        {
            "program": xml_text(program),
            "arguments": xml_text(windows_command_line(command[1:])),
            "working_directory": xml_text(working_directory),
        },
    )
    if not text.startswith(_XML_DECLARATION):
        raise AutostartError(f"the template {MACHINE_TASK_XML} does not start with {_XML_DECLARATION}")
    text = '<?xml version="1.0" encoding="UTF-16"?>' + text[len(_XML_DECLARATION) :]
    return text.replace("\n", "\r\n")


def _machine_definition(options: Options) -> Entry:
    data = _folder(options, "ProgramData", "ALLUSERSPROFILE")
    return Entry(
        KIND_MACHINE_TASK_XML,
        options.host_path(f"{data}\\clientcheck\\autostart\\{MACHINE_TASK_XML}"),
        content=task_file(machine_task_definition(options)),
        marker=MARKER.encode("utf-16-le"),
    )


def task_file(text: str) -> bytes:
    """The bytes schtasks /XML reads: UTF-16 little-endian with a byte-order mark (UTF-8, with or without a
    mark, is refused as malformed)."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def shortcut(options: Options) -> bytes:
    import ntpath

    program = options.command[0]
    try:
        return shell_link(
            program,
            arguments=windows_command_line(options.command[1:]),
            working_dir=ntpath.dirname(program),
            description=_SHORTCUT_DESCRIPTION,
            app_user_model_id=APP_USER_MODEL_ID,
        )
    except ShellLinkError as error:
        raise AutostartError(f"cannot write the Start-menu shortcut: {error}") from None


def _classes(options: Options) -> str:
    """Where the protocol is registered: the user's classes, or the machine's for every user."""
    hive = "HKEY_LOCAL_MACHINE\\SOFTWARE" if options.system else "HKEY_CURRENT_USER\\Software"
    return f"{hive}\\Classes\\{PROTOCOL}"


def _reg_string(value: str) -> str:
    """A .reg file's string value: backslashes and quotes escaped, as regedit writes them."""
    if any(ord(char) < 0x20 for char in value):
        raise AutostartError(f"{value!r} has control characters, which a registry string cannot be given here")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def protocol_definition(options: Options) -> str:
    """The .reg file registering ``clientcheck:``. The command names no ``%1``: the URI is never passed on."""
    command = windows_command_line(check_now_command(options.command))
    key = _classes(options)
    lines = [
        "Windows Registry Editor Version 5.00",
        "",
        f'; {MARKER}; "clientcheck autostart uninstall" removes it.',
        f'; A toast\'s "check again" opens {PROTOCOL}:recheck; whatever URI opens it, it runs',
        "; clientcheck login --force, and is given none of it.",
        f"[{key}]",
        f"@={_reg_string('URL:clientcheck (check for updates now)')}",
        '"URL Protocol"=""',
        "",
        f"[{key}\\shell\\open\\command]",
        f"@={_reg_string(command)}",
        "",
    ]
    return "\r\n".join(lines)


def _reg(options: Options) -> str:
    system_root = (options.env_value("SystemRoot") or options.env_value("windir") or "C:\\Windows").rstrip("\\")
    return f"{system_root}\\System32\\reg.exe"


def check_now_names() -> dict[str, str]:
    """The shortcut's name in each language clientcheck speaks (a Start-menu entry has one name)."""
    from clientcheck.i18n import available, translation

    return {language: translation(language).gettext(CHECK_NOW_NAME) for language in sorted(available())}


def _check_now(options: Options, name: str) -> Entry:
    import ntpath

    from clientcheck.i18n import translation

    _xml, shortcut_path = _paths(options)
    program = options.command[0]
    marker = MARKER.encode("utf-16-le")
    try:
        content = shell_link(
            program,
            arguments=windows_command_line(check_now_command(options.command)[1:]),
            working_dir=ntpath.dirname(program),
            description=f"{translation(options.language).gettext(CHECK_NOW_COMMENT)}. {MARKER}.",
        )
    except ShellLinkError as error:
        raise AutostartError(f"cannot write the Start-menu shortcut: {error}") from None
    folder = ntpath.dirname(shortcut_path)
    return Entry(KIND_CHECK_NOW, options.host_path(f"{folder}\\{name}.lnk"), content=content, marker=marker)


def _check_now_entries(options: Options) -> tuple[Entry, list[Entry]]:
    """The shortcut in the person's language, and those in the others (left from an install in another)."""
    from clientcheck.i18n import translation

    wanted = translation(options.language).gettext(CHECK_NOW_NAME)
    others = sorted(set(check_now_names().values()) - {wanted})
    return _check_now(options, wanted), [_check_now(options, name) for name in others]


def _protocol_file(options: Options) -> Entry:
    import ntpath

    xml_path, _ = _paths(options)
    path = ntpath.join(ntpath.dirname(xml_path), PROTOCOL_REG)
    content = b"\xff\xfe" + protocol_definition(options).encode("utf-16-le")  # as regedit writes .reg files
    return Entry(KIND_PROTOCOL_FILE, options.host_path(path), content=content, marker=MARKER.encode("utf-16-le"))


def _protocol_registered(options: Options) -> bool | None:
    if options.runner is None:
        return None
    return options.runner([_reg(options), "query", f"{_classes(options)}\\shell\\open\\command"]).status == 0


def _entries(options: Options) -> tuple[Entry, Entry]:
    xml_path, shortcut_path = _paths(options)
    definition = Entry(
        KIND_TASK_XML,
        options.host_path(xml_path),
        content=task_file(task_definition(options)),
        marker=MARKER.encode("utf-16-le"),
    )
    link = Entry(
        KIND_SHORTCUT,
        options.host_path(shortcut_path),
        content=shortcut(options),
        marker=MARKER.encode("utf-16-le"),
    )
    return definition, link


def _registered(options: Options, name: str | None = None) -> bool | None:
    """Whether the task is registered; None when that cannot be asked (no runner)."""
    if options.runner is None:
        return None
    return options.runner([schtasks(options), "/Query", "/TN", name or task_name(options)]).status == 0


def _register(options: Options, name: str, kind: str, xml_path: str, written: Change) -> Change:
    """Register the task ``name`` from its definition, unless it is registered and its definition unchanged."""
    register = [schtasks(options), "/Create", "/XML", xml_path, "/TN", name, "/F"]
    registered = _registered(options, name)
    if registered is None:
        return Change(kind, name, "skipped", "register it with: " + windows_command_line(register))
    if registered and written.action == "unchanged":
        return Change(kind, name, "unchanged")
    assert options.runner is not None  # noqa: S101 - _registered answered, so there is a runner
    result = options.runner(register)
    if result.status != 0:
        reason = first_line(result.output) or f"exit status {result.status}"
        message = f"schtasks could not register the task {name}: {reason}"
        # schtasks speaks the system's language; "Access is denied." is the English one.
        if options.system and "denied" in reason.lower():
            raise NeedsAdminError(message, hint=admin_hint("windows"))
        raise AutostartError(message)
    return Change(kind, name, "updated" if registered else "installed")


def _unregister(options: Options, name: str, kind: str) -> Change:
    registered = _registered(options, name)
    if registered is None:
        delete = [schtasks(options), "/Delete", "/TN", name, "/F"]
        return Change(kind, name, "skipped", "remove it with: " + windows_command_line(delete))
    if not registered:
        return Change(kind, name, "absent")
    assert options.runner is not None  # noqa: S101 - _registered answered, so there is a runner
    result = options.runner([schtasks(options), "/Delete", "/TN", name, "/F"])
    if result.status != 0:
        reason = first_line(result.output) or f"exit status {result.status}"
        raise AutostartError(f"schtasks could not remove the task {name}: {reason}")
    return Change(kind, name, "removed")


def install(options: Options) -> list[Change]:
    import os

    definition, link = _entries(options)
    machine = _machine_definition(options) if options.system else None
    entries = [definition, link] + ([machine] if machine else [])
    refuse_strangers(entries)
    prepare_folders([os.path.dirname(entry.path) for entry in entries], system=options.system, platform="windows")
    changes = [write_entry(definition)]
    xml_path, _ = _paths(options)
    changes.append(_register(options, task_name(options), KIND_TASK, xml_path, changes[0]))
    changes.append(write_entry(link))
    if machine is not None:
        written = write_entry(machine)
        changes.append(written)
        changes.append(_register(options, MACHINE_TASK, KIND_MACHINE_TASK, _machine_xml_path(options), written))
    changes += _install_check_now(options)
    return changes


def _install_check_now(options: Options) -> list[Change]:
    """The "Check for updates now" shortcut (in the person's language, replacing one in another) and the
    protocol a toast's "check again" opens."""
    import os

    shortcut, others = _check_now_entries(options)
    protocol_file = _protocol_file(options)
    refuse_strangers([shortcut, protocol_file])
    prepare_folders([os.path.dirname(protocol_file.path)], system=options.system, platform="windows")
    changes = [remove_entry(other, system=options.system, platform="windows") for other in others]
    changes = [change for change in changes if change.action == "removed"]
    changes.append(write_entry(shortcut))
    changes.append(write_entry(protocol_file))
    xml_path, _ = _paths(options)
    reg_file = os.path.join(os.path.dirname(xml_path), PROTOCOL_REG) if options.root is None else None
    registered = _protocol_registered(options)
    key = _classes(options)
    import_argv = [_reg(options), "import", reg_file or protocol_file.path]
    if registered is None:
        changes.append(Change(KIND_PROTOCOL, key, "skipped", "register it with: " + windows_command_line(import_argv)))
    elif registered and changes[-1].action == "unchanged":
        changes.append(Change(KIND_PROTOCOL, key, "unchanged"))
    else:
        assert options.runner is not None  # noqa: S101 - _protocol_registered answered, so there is a runner
        result = options.runner(import_argv)
        if result.status != 0:
            reason = first_line(result.output) or f"exit status {result.status}"
            message = f"reg could not register the {PROTOCOL}: protocol: {reason}"
            if options.system and "denied" in reason.lower():
                raise NeedsAdminError(message, hint=admin_hint("windows"))
            raise AutostartError(message)
        changes.append(Change(KIND_PROTOCOL, key, "updated" if registered else "installed"))
    return changes


def _machine_xml_path(options: Options) -> str:
    """The machine task's definition, as Windows names it (not below a staging root)."""
    return f"{_folder(options, 'ProgramData', 'ALLUSERSPROFILE')}\\clientcheck\\autostart\\{MACHINE_TASK_XML}"


def uninstall(options: Options) -> list[Change]:
    import os

    definition, link = _entries(options)
    machine = _machine_definition(options) if options.system else None
    entries = [definition, link] + ([machine] if machine else [])
    present = [entry for entry in entries if os.path.lexists(entry.path)]
    prepare_folders([os.path.dirname(entry.path) for entry in present], system=options.system, platform="windows")
    changes = [_unregister(options, task_name(options), KIND_TASK)]
    if machine is not None:
        changes.append(_unregister(options, MACHINE_TASK, KIND_MACHINE_TASK))
    # Our own clientcheck\autostart folder goes once empty (and clientcheck\ too, if nothing else is in it).
    data = _folder(options, "ProgramData", "ALLUSERSPROFILE") if options.system else _folder(options, "LOCALAPPDATA")
    prune_to = options.host_path(data)
    if machine is not None:
        changes.append(remove_entry(machine, system=True, platform="windows", prune_to=prune_to))
    changes += _uninstall_check_now(options)
    changes.append(remove_entry(definition, system=options.system, platform="windows", prune_to=prune_to))
    changes.append(remove_entry(link, system=options.system, platform="windows"))
    return changes


def _uninstall_check_now(options: Options) -> list[Change]:
    shortcut, others = _check_now_entries(options)
    changes = [remove_entry(shortcut, system=options.system, platform="windows")]
    changes += [
        change
        for change in (remove_entry(other, system=options.system, platform="windows") for other in others)
        if change.action == "removed"
    ]
    key = _classes(options)
    registered = _protocol_registered(options)
    if registered is None:
        delete = [_reg(options), "delete", key, "/f"]
        changes.append(Change(KIND_PROTOCOL, key, "skipped", "remove it with: " + windows_command_line(delete)))
    elif not registered:
        changes.append(Change(KIND_PROTOCOL, key, "absent"))
    else:
        assert options.runner is not None  # noqa: S101 - _protocol_registered answered, so there is a runner
        result = options.runner([_reg(options), "delete", key, "/f"])
        if result.status != 0:
            reason = first_line(result.output) or f"exit status {result.status}"
            raise AutostartError(f"reg could not remove the {PROTOCOL}: protocol: {reason}")
        changes.append(Change(KIND_PROTOCOL, key, "removed"))
    # The definition goes before the folder it is in may be pruned with the task's.
    changes.append(remove_entry(_protocol_file(options), system=options.system, platform="windows"))
    return changes


def status(options: Options) -> list[EntryStatus]:
    definition, link = _entries(options)
    found = [entry_status(definition), _task_status(options, task_name(options), KIND_TASK), entry_status(link)]
    if options.system:
        found += [entry_status(_machine_definition(options)), _task_status(options, MACHINE_TASK, KIND_MACHINE_TASK)]
    shortcut, others = _check_now_entries(options)
    found.append(entry_status(shortcut))
    found += [entry_status(other, expected=False) for other in others]
    found.append(entry_status(_protocol_file(options)))
    registered = _protocol_registered(options)
    key = _classes(options)
    if registered is None:
        found.append(EntryStatus(KIND_PROTOCOL, key, "unknown", detail="cannot ask the registry from here"))
    else:
        found.append(EntryStatus(KIND_PROTOCOL, key, "installed" if registered else "missing"))
    return [item for item in found if item is not None]


def _task_status(options: Options, name: str, kind: str) -> EntryStatus:
    registered = _registered(options, name)
    if registered is None:
        return EntryStatus(kind, name, "unknown", detail="cannot ask Task Scheduler from here")
    return EntryStatus(kind, name, "installed" if registered else "missing")
