"""Windows: the scheduled task's XML against the Task Scheduler schema's rules, the schtasks commands, and
the Start-menu shortcut read by three parsers that are not ours (lnkinfo from liblnk, ExifTool, LnkParse3).

The schema rules below are written from Microsoft's "Task Scheduler Schema" reference
(learn.microsoft.com/windows/win32/taskschd/task-scheduler-schema) and the [MS-TSCH] XML task definition
format: which children each element takes, in what order where the schema says xs:sequence (the trigger
elements), which are required, the enumerations, xs:duration and xs:boolean, the 260-character paths, and
the one Principal whose id the Actions' Context names. The XSD itself is not copied here.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clientcheck import autostart
from clientcheck.autostart import shelllink, windows
from conftest import needs_tool

LNKINFO = shutil.which("lnkinfo")
EXIFTOOL = shutil.which("exiftool")
XMLLINT = shutil.which("xmllint")
try:
    import LnkParse3
except ImportError:  # a test extra, not a dependency
    LnkParse3 = None

NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
PYTHONW = "C:\\Users\\jürgen\\AppData\\Local\\Programs\\Python\\Python312\\pythonw.exe"
COMMAND = [PYTHONW, "-m", "clientcheck", "login"]
ENV = {
    "USERNAME": "jürgen",
    "USERDOMAIN": "CONTOSO",
    "APPDATA": "C:\\Users\\jürgen\\AppData\\Roaming",
    "LOCALAPPDATA": "C:\\Users\\jürgen\\AppData\\Local",
    "PROGRAMDATA": "C:\\ProgramData",  # Windows' own spelling varies; the lookup ignores case, as Windows does
    "SystemRoot": "C:\\WINDOWS",
}


# --- the Task Scheduler schema's rules, as checks ---------------------------------------------------

# xs:duration: at least one part, and T only when a time part follows.
DURATION = re.compile(r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")
BOOLEAN = {"true", "false", "1", "0"}
TASK_CHILDREN = {"RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"}  # xs:all
REGISTRATION_CHILDREN = {
    "URI",
    "SecurityDescriptor",
    "Source",
    "Date",
    "Author",
    "Version",
    "Description",
    "Documentation",
}
TRIGGER_BASE = ["Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit"]  # xs:sequence
TRIGGER_SEQUENCES = {
    "LogonTrigger": [*TRIGGER_BASE, "UserId", "Delay"],
    "BootTrigger": [*TRIGGER_BASE, "Delay"],
    "RegistrationTrigger": [*TRIGGER_BASE, "Delay"],
    "IdleTrigger": TRIGGER_BASE,
    "TimeTrigger": [*TRIGGER_BASE, "RandomDelay"],
}
SETTINGS = {  # xs:all, each with its type
    "AllowStartOnDemand": "boolean",
    "RestartOnFailure": "complex",
    "MultipleInstancesPolicy": {"Parallel", "Queue", "IgnoreNew", "StopExisting"},
    "DisallowStartIfOnBatteries": "boolean",
    "StopIfGoingOnBatteries": "boolean",
    "AllowHardTerminate": "boolean",
    "StartWhenAvailable": "boolean",
    "NetworkProfileName": "string",
    "RunOnlyIfNetworkAvailable": "boolean",
    "WakeToRun": "boolean",
    "Enabled": "boolean",
    "Hidden": "boolean",
    "DeleteExpiredTaskAfter": "duration",
    "IdleSettings": "complex",
    "NetworkSettings": "complex",
    "ExecutionTimeLimit": "duration",
    "Priority": "priority",
    "RunOnlyIfIdle": "boolean",
    "UseUnifiedSchedulingEngine": "boolean",
    "DisallowStartOnRemoteAppSession": "boolean",
}
PRINCIPAL_CHILDREN = {
    "UserId",
    "LogonType",
    "GroupId",
    "DisplayName",
    "RunLevel",
    "ProcessTokenSidType",
    "RequiredPrivileges",
}
LOGON_TYPES = {"S4U", "Password", "InteractiveToken", "InteractiveTokenOrPassword"}
RUN_LEVELS = {"LeastPrivilege", "HighestAvailable"}
ACTIONS = {"Exec", "ComHandler", "SendEmail", "ShowMessage"}
EXEC_CHILDREN = {"Command": True, "Arguments": False, "WorkingDirectory": False}  # name: required
MAX_PATH = 260


def seconds(duration: str) -> float:
    match = DURATION.fullmatch(duration)
    assert match, duration
    years, months, days, _, hours, minutes, secs, _ = match.groups()

    def number(part: str | None) -> float:
        return float(part[:-1]) if part else 0.0

    return (
        number(years) * 365 * 86400
        + number(months) * 30 * 86400
        + number(days) * 86400
        + number(hours) * 3600
        + number(minutes) * 60
        + number(secs)
    )


def parse_task(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own output, made by the test itself


def local(element: ET.Element) -> str:
    assert element.tag.startswith(NS), f"{element.tag} is not in the task namespace"
    return element.tag[len(NS) :]


def children(element: ET.Element) -> list[str]:
    return [local(child) for child in element]


def check_all(element: ET.Element, allowed: set[str], required: set[str] = frozenset()) -> None:
    """xs:all: known children, each at most once, the required ones present (any order)."""
    names = children(element)
    where = local(element)
    assert set(names) <= allowed, f"{where}: unknown {sorted(set(names) - allowed)}"
    assert len(names) == len(set(names)), f"{where}: repeated children {names}"
    assert required <= set(names), f"{where}: missing {sorted(required - set(names))}"


def check_sequence(element: ET.Element, order: list[str]) -> None:
    """xs:sequence of optional elements: each at most once, in the schema's order."""
    names = children(element)
    assert set(names) <= set(order), f"{local(element)}: unknown {sorted(set(names) - set(order))}"
    positions = [order.index(name) for name in names]
    assert positions == sorted(set(positions)), f"{local(element)}: {names} is not in the order {order}"


def task_schema_problems(data: bytes) -> list[str]:
    """Every rule of the schema the task file breaks (empty: it keeps them all)."""
    problems: list[str] = []
    try:
        check_task_file(data)
    except AssertionError as error:
        problems.append(str(error).splitlines()[0])
    return problems


def check_task_file(data: bytes) -> None:
    # What schtasks /XML reads: UTF-16 little-endian with its byte-order mark, declared as UTF-16.
    assert data.startswith(b"\xff\xfe"), "no UTF-16 LE byte-order mark"
    text = data[2:].decode("utf-16-le")
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>'), "the declaration does not say UTF-16"
    task = parse_task(data)  # expat reads the mark and the declaration itself
    assert local(task) == "Task"
    version = task.get("version")
    assert version is not None and re.fullmatch(r"\d+(\.\d+){1,3}", version), f"version {version!r}"
    assert tuple(map(int, version.split("."))) >= (1, 2), "schema 1.2 (Windows 7) or later"
    check_all(task, TASK_CHILDREN, {"Actions"})
    ids = [element.get("id") for element in task.iter() if element.get("id") is not None]
    assert len(ids) == len(set(ids)), f"ids are not unique: {ids}"

    registration = task.find(f"{NS}RegistrationInfo")
    if registration is not None:
        check_all(registration, REGISTRATION_CHILDREN)

    triggers = task.find(f"{NS}Triggers")
    if triggers is not None:
        assert 0 < len(triggers) <= 48
        for trigger in triggers:
            kind = local(trigger)
            assert kind in TRIGGER_SEQUENCES, f"trigger {kind}"
            check_sequence(trigger, TRIGGER_SEQUENCES[kind])
            for element in trigger:
                name, value = local(element), (element.text or "")
                if name == "Enabled":
                    assert value in BOOLEAN
                elif name in ("Delay", "ExecutionTimeLimit", "RandomDelay"):
                    assert DURATION.fullmatch(value), f"{kind}/{name}: {value!r} is not an xs:duration"
                elif name == "UserId":
                    assert value, "UserId is a nonEmptyString"
                elif name == "Repetition":
                    check_all(element, {"Interval", "Duration", "StopAtDurationEnd"}, {"Interval"})
                    interval = element.findtext(f"{NS}Interval") or ""
                    assert DURATION.fullmatch(interval) and 60 <= seconds(interval) <= 31 * 86400, interval
                    duration = element.findtext(f"{NS}Duration")
                    assert duration is None or seconds(duration) >= 60
                    assert (element.findtext(f"{NS}StopAtDurationEnd") or "false") in BOOLEAN

    settings = task.find(f"{NS}Settings")
    if settings is not None:
        check_all(settings, set(SETTINGS))
        for element in settings:
            name, value = local(element), (element.text or "")
            kind = SETTINGS[name]
            if kind == "boolean":
                assert value in BOOLEAN, f"Settings/{name}: {value!r}"
            elif kind == "duration":
                assert DURATION.fullmatch(value), f"Settings/{name}: {value!r}"
            elif kind == "priority":
                assert value.isdigit() and 0 <= int(value) <= 10, f"Priority {value!r}"
            elif isinstance(kind, set):
                assert value in kind, f"Settings/{name}: {value!r}"

    principal_ids = []
    principals = task.find(f"{NS}Principals")
    if principals is not None:
        assert children(principals) == ["Principal"], "exactly one Principal"
        principal = principals[0]
        check_all(principal, PRINCIPAL_CHILDREN)
        assert not (principal.find(f"{NS}UserId") is not None and principal.find(f"{NS}GroupId") is not None), (
            "a Principal names a user or a group, not both"
        )
        assert principal.findtext(f"{NS}LogonType", "InteractiveToken") in LOGON_TYPES
        assert principal.findtext(f"{NS}RunLevel", "LeastPrivilege") in RUN_LEVELS
        principal_ids = [principal.get("id")]

    actions = task.find(f"{NS}Actions")
    assert actions is not None and 0 < len(actions) <= 32, "1 to 32 actions"
    context = actions.get("Context")
    assert context is None or context in principal_ids, f"Context {context!r} names no Principal"
    for action in actions:
        assert local(action) in ACTIONS
        if local(action) == "Exec":
            check_all(action, set(EXEC_CHILDREN), {name for name, required in EXEC_CHILDREN.items() if required})
            for name in ("Command", "WorkingDirectory"):
                value = action.findtext(f"{NS}{name}")
                assert value is None or 0 < len(value) <= MAX_PATH, f"Exec/{name} must be 1 to {MAX_PATH} characters"


def task_file(tmp_path: Path, *, system: bool, command: list[str] = COMMAND) -> Path:
    changes = autostart.install("windows", system=system, env=ENV, command=command, root=str(tmp_path))
    [path] = [Path(change.path) for change in changes if change.kind == "scheduled task definition"]
    return path


def test_the_rule_checker_catches_what_task_scheduler_refuses(tmp_path: Path):
    """The checks above are only worth something if they fail on what Task Scheduler rejects."""
    good = task_file(tmp_path, system=False).read_bytes()
    assert task_schema_problems(good) == []
    text = good[2:].decode("utf-16-le")

    def broken(old: str, new: str) -> bytes:
        assert old in text
        return b"\xff\xfe" + text.replace(old, new, 1).encode("utf-16-le")

    delay = "      <Delay>PT30S</Delay>\r\n"
    cases = {
        "UTF-8 bytes": text.encode("utf-8"),
        "no byte-order mark": text.encode("utf-16-le"),
        "declared UTF-8": broken('encoding="UTF-16"', 'encoding="UTF-8"'),
        "Delay before UserId": broken(delay + "    </LogonTrigger>", "    </LogonTrigger>").replace(
            "      <UserId>".encode("utf-16-le"), (delay + "      <UserId>").encode("utf-16-le"), 1
        ),
        "a bad duration": broken("<Delay>PT30S</Delay>", "<Delay>30 seconds</Delay>"),
        "an interval under a minute": broken("<Interval>PT4H</Interval>", "<Interval>PT30S</Interval>"),
        "an unknown policy": broken("<MultipleInstancesPolicy>IgnoreNew<", "<MultipleInstancesPolicy>Ignore<"),
        "a Yes for a boolean": broken("<Hidden>false</Hidden>", "<Hidden>no</Hidden>"),
        "no Actions": broken("<Actions", "<Actionz").replace(
            "</Actions>".encode("utf-16-le"), "</Actionz>".encode("utf-16-le")
        ),
        "a Context naming nobody": broken('Context="Author"', 'Context="Someone"'),
        "user and group": broken("<LogonType>", "<GroupId>S-1-5-32-545</GroupId>\r\n      <LogonType>"),
        "an unknown run level": broken("LeastPrivilege", "Lowest"),
        "two Settings/Enabled": broken(
            "<Enabled>true</Enabled>\r\n    <Hidden>", "<Enabled>true</Enabled><Enabled>true</Enabled><Hidden>"
        ),
    }
    for name, data in cases.items():
        assert task_schema_problems(data), f"the checker let {name} through"


@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_the_task_keeps_the_schema_rules(system: bool, tmp_path: Path):
    data = task_file(tmp_path, system=system).read_bytes()
    check_task_file(data)
    assert b"\n\x00" in data and b"\r\x00\n\x00" in data and data.count(b"\n\x00") == data.count(b"\r\x00\n\x00")


@needs_tool("xmllint", "libxml2-utils")
def test_libxml2_reads_the_utf16_task_file(tmp_path: Path):
    path = task_file(
        tmp_path, system=False, command=["C:\\R&D <Tools>\\Python\\pythonw.exe", "-m", "clientcheck", "login"]
    )
    proc = subprocess.run([XMLLINT, "--noout", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [XMLLINT, "--xpath", "//*[local-name()='Command']/text()", str(path)], capture_output=True, check=False
    )
    assert proc.stdout.decode("utf-8").strip() == "C:\\R&amp;D &lt;Tools&gt;\\Python\\pythonw.exe"


def test_per_user_task_runs_as_that_user_at_their_logon(tmp_path: Path):
    task = parse_task(task_file(tmp_path, system=False).read_bytes())
    trigger = task.find(f"{NS}Triggers/{NS}LogonTrigger")
    assert trigger is not None
    assert trigger.findtext(f"{NS}UserId") == "CONTOSO\\jürgen"
    assert trigger.findtext(f"{NS}Delay") == "PT30S"
    assert trigger.findtext(f"{NS}Repetition/{NS}Interval") == "PT4H"
    assert trigger.find(f"{NS}Repetition/{NS}Duration") is None  # repeats for the whole session
    principal = task.find(f"{NS}Principals/{NS}Principal")
    assert principal is not None
    assert {local(child): child.text for child in principal} == {
        "UserId": "CONTOSO\\jürgen",
        "LogonType": "InteractiveToken",
        "RunLevel": "LeastPrivilege",
    }
    settings = {local(child): child.text for child in task.find(f"{NS}Settings") or []}
    assert settings["MultipleInstancesPolicy"] == "IgnoreNew"
    assert settings["DisallowStartIfOnBatteries"] == "false"
    assert settings["StopIfGoingOnBatteries"] == "false"
    assert settings["ExecutionTimeLimit"] == "PT15M"
    exec_ = task.find(f"{NS}Actions/{NS}Exec")
    assert exec_ is not None
    assert {local(child): child.text for child in exec_} == {
        "Command": PYTHONW,
        "Arguments": "-m clientcheck login",
        "WorkingDirectory": "C:\\Users\\jürgen\\AppData\\Local\\Programs\\Python\\Python312",
    }


def test_system_task_runs_for_every_user_as_themselves(tmp_path: Path):
    task = parse_task(task_file(tmp_path, system=True).read_bytes())
    trigger = task.find(f"{NS}Triggers/{NS}LogonTrigger")
    assert trigger is not None and trigger.find(f"{NS}UserId") is None  # anyone's logon
    principal = task.find(f"{NS}Principals/{NS}Principal")
    assert principal is not None
    # BUILTIN\Users by SID, which does not depend on the system's language; no stored password.
    assert {local(child): child.text for child in principal} == {
        "GroupId": "S-1-5-32-545",
        "RunLevel": "LeastPrivilege",
    }


def test_a_program_path_longer_than_task_scheduler_takes_is_refused(tmp_path: Path):
    long_path = "C:\\" + "\\".join(["folder"] * 40) + "\\pythonw.exe"
    with pytest.raises(autostart.AutostartError, match="longer than the 260 characters"):
        autostart.install("windows", env=ENV, command=[long_path, "-m", "clientcheck", "login"], root=str(tmp_path))


# --- schtasks ---------------------------------------------------------------------------------------


class Schtasks:
    """A stand-in for schtasks.exe that keeps a task list and records every command line; and for reg.exe,
    which imports .reg files (read with clientcheck's own parser, from the staging tree) into its keys."""

    def __init__(self, registered: bool = False, fail_create: str | None = None, root: Path | None = None) -> None:
        self.tasks: set[str] = set()
        self.calls: list[list[str]] = []
        self.reg_calls: list[list[str]] = []
        self.keys: dict[str, dict] = {}
        self.fail_create = fail_create
        self.registered = registered
        self.root = root

    def __call__(self, argv):
        if argv[0].lower().endswith("\\reg.exe"):
            return self.reg(argv)
        self.calls.append(list(argv))
        verb, name = argv[1], argv[argv.index("/TN") + 1]
        if verb == "/Query":
            return autostart.CommandResult(
                0 if name in self.tasks else 1, "ERROR: The system cannot find the file specified."
            )
        if verb == "/Create":
            if self.fail_create:
                return autostart.CommandResult(1, self.fail_create)
            self.tasks.add(name)
            return autostart.CommandResult(0, f'SUCCESS: The scheduled task "{name}" has successfully been created.')
        if verb == "/Delete":
            self.tasks.discard(name)
            return autostart.CommandResult(0, f'SUCCESS: The scheduled task "{name}" was successfully deleted.')
        raise AssertionError(argv)

    def reg(self, argv):
        from clientcheck.inspect.formats.regfile import parse_reg

        self.reg_calls.append(list(argv))
        verb = argv[1]
        if verb == "query":
            return autostart.CommandResult(0 if argv[2].lower() in self.keys else 1, "")
        if verb == "import":
            path = Path(argv[2])  # the staged copy (a staging tree's path, as install passes it there)
            parsed = parse_reg(path.read_bytes())
            self.keys.update({key.lower(): values for key, values in parsed.items()})
            return autostart.CommandResult(0, "The operation completed successfully.")
        if verb == "delete":
            self.keys = {key: values for key, values in self.keys.items() if not key.startswith(argv[2].lower())}
            return autostart.CommandResult(0, "The operation completed successfully.")
        raise AssertionError(argv)


SCHTASKS = "C:\\WINDOWS\\System32\\schtasks.exe"
USER_XML = "C:\\Users\\jürgen\\AppData\\Local\\clientcheck\\autostart\\clientcheck-task.xml"


MACHINE_XML = "C:\\ProgramData\\clientcheck\\autostart\\clientcheck-machine-task.xml"


@pytest.mark.parametrize(
    ("system", "names", "xmls"),
    [
        (False, ["\\clientcheck\\login-jürgen"], [USER_XML]),
        (
            True,
            ["\\clientcheck\\login", "\\clientcheck\\machine"],
            ["C:\\ProgramData\\clientcheck\\autostart\\clientcheck-task.xml", MACHINE_XML],
        ),
    ],
    ids=["user", "system"],
)
def test_schtasks_registers_and_removes_the_task(system: bool, names: list[str], xmls: list[str], tmp_path: Path):
    schtasks = Schtasks()
    changes = autostart.install("windows", system=system, env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    assert schtasks.calls == [
        call
        for name, xml in zip(names, xmls, strict=True)
        for call in ([SCHTASKS, "/Query", "/TN", name], [SCHTASKS, "/Create", "/XML", xml, "/TN", name, "/F"])
    ]
    machine = [("scheduled task definition (the machine run)", "installed"), (windows.KIND_MACHINE_TASK, "installed")]
    assert [(change.kind, change.action) for change in changes] == [
        ("scheduled task definition", "installed"),
        ("scheduled task", "installed"),
        ("Start-menu shortcut", "installed"),
        *(machine if system else []),
        ("Start-menu shortcut: check for updates now", "installed"),
        ("recheck protocol definition", "installed"),
        ("recheck protocol", "installed"),
    ]
    states = autostart.status("windows", system=system, env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    assert autostart.is_installed(states)

    schtasks.calls.clear()
    again = autostart.install("windows", system=system, env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    assert schtasks.calls == [[SCHTASKS, "/Query", "/TN", name] for name in names]  # registered, unchanged: left alone
    assert {change.action for change in again} == {"unchanged"}

    schtasks.calls.clear()
    removed = autostart.uninstall(
        "windows", system=system, env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks
    )
    assert schtasks.calls == [
        call for name in names for call in ([SCHTASKS, "/Query", "/TN", name], [SCHTASKS, "/Delete", "/TN", name, "/F"])
    ]
    expected = ["removed"] * (8 if system else 6) + (["absent"] if system else [])  # no collector state here
    assert [change.action for change in removed] == expected
    assert schtasks.tasks == set()
    assert schtasks.keys == {}


def test_the_machine_task_runs_as_system_at_boot_and_every_hour(tmp_path: Path):
    changes = autostart.install("windows", system=True, env=ENV, command=COMMAND, root=str(tmp_path))
    [path] = [Path(change.path) for change in changes if change.kind == windows.KIND_MACHINE_TASK_XML]
    data = path.read_bytes()
    check_task_file(data)
    task = parse_task(data)
    assert task.findtext(f"{NS}Principals/{NS}Principal/{NS}UserId") == "S-1-5-18"  # LocalSystem
    assert task.findtext(f"{NS}Principals/{NS}Principal/{NS}RunLevel") == "HighestAvailable"
    assert task.findtext(f"{NS}Triggers/{NS}BootTrigger/{NS}Delay") == "PT5M"
    assert task.findtext(f"{NS}Triggers/{NS}TimeTrigger/{NS}Repetition/{NS}Interval") == "PT1H"
    exec_ = task.find(f"{NS}Actions/{NS}Exec")
    assert exec_ is not None
    assert exec_.findtext(f"{NS}Command") == PYTHONW
    assert exec_.findtext(f"{NS}Arguments") == "-m clientcheck ship --check --scheduled"


def test_a_task_deleted_behind_our_back_is_registered_again(tmp_path: Path):
    schtasks = Schtasks()
    autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    schtasks.tasks.clear()  # someone ran schtasks /Delete
    [state] = [
        item
        for item in autostart.status("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
        if item.kind == "scheduled task"
    ]
    assert state.state == "missing"
    changes = autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    assert [change.action for change in changes] == [
        "unchanged",
        "installed",
        "unchanged",
        "unchanged",
        "unchanged",
        "unchanged",
    ]


def test_a_refused_registration_is_an_error_with_schtasks_reason(tmp_path: Path):
    schtasks = Schtasks(fail_create="ERROR: Access is denied.\r\n")
    with pytest.raises(autostart.NeedsAdminError) as caught:
        autostart.install("windows", system=True, env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    assert caught.value.hint and "elevated prompt" in caught.value.hint
    schtasks = Schtasks(fail_create="ERROR: The task XML contains a value which is incorrectly formatted.\r\n")
    with pytest.raises(autostart.AutostartError, match="incorrectly formatted"):
        autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)


def test_task_names_of_two_users_do_not_collide(tmp_path: Path):
    names = set()
    for user in ("jürgen", "ada", 'we:ird*"name'):
        schtasks = Schtasks()
        autostart.install(
            "windows", env={**ENV, "USERNAME": user}, command=COMMAND, root=str(tmp_path), runner=schtasks
        )
        names |= schtasks.tasks
    assert names == {"\\clientcheck\\login-jürgen", "\\clientcheck\\login-ada", "\\clientcheck\\login-we_ird__name"}


# --- command lines ------------------------------------------------------------------------------------


def command_line_to_argv(line: str) -> list[str]:
    """Splits like CommandLineToArgvW for arguments after the program name, as Microsoft documents it
    ("Parsing C++ command-line arguments"): 2n backslashes and a quote give n backslashes and toggle
    quoting, 2n+1 give n and a literal quote, other backslashes are literal, whitespace outside quotes
    separates."""
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    started = False
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\":
            run = len(line) - i - len(line[i:].lstrip("\\"))
            if i + run < len(line) and line[i + run] == '"':
                current.append("\\" * (run // 2))
                if run % 2:
                    current.append('"')
                    i += run + 1
                else:
                    i += run
                started = True
                continue
            current.append("\\" * run)
            i += run
            started = True
            continue
        if char == '"':
            if in_quotes and line[i + 1 : i + 2] == '"':  # "" inside quotes: a literal quote
                current.append('"')
                i += 2
                continue
            in_quotes = not in_quotes
            started = True
        elif char in " \t" and not in_quotes:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
        i += 1
    if started:
        args.append("".join(current))
    return args


@pytest.mark.parametrize(
    "arguments",
    [
        ["-m", "clientcheck", "login"],
        ["login", "a b", ""],
        ['say "hi"', "C:\\dir with space\\", "C:\\ends\\with\\backslash\\"],
        ['\\"', '\\\\"', "tab\there", "Jürgen Ωmega", "100%"],
        ["back\\slash", "trailing\\\\", '"', ""],
    ],
)
def test_windows_command_lines_split_back_into_the_same_arguments(arguments: list[str]):
    line = windows.windows_command_line(arguments)
    assert command_line_to_argv(line) == arguments
    if not any('"' in argument for argument in arguments):
        assert line == subprocess.list2cmdline(arguments)  # CPython's implementation of the same rules


# --- the Start-menu shortcut --------------------------------------------------------------------------


def shortcut(tmp_path: Path, *, program: str = PYTHONW, system: bool = False) -> Path:
    command = [program, "-m", "clientcheck", "login", "a b"]
    changes = autostart.install("windows", system=system, env=ENV, command=command, root=str(tmp_path))
    [path] = [Path(change.path) for change in changes if change.kind == "Start-menu shortcut"]
    return path


PROGRAMS = [
    pytest.param("C:\\Program Files\\Python312\\pythonw.exe", id="ascii"),
    pytest.param(PYTHONW, id="accented"),
    pytest.param("C:\\Users\\Юлия 李\\Python\\pythonw.exe", id="not-in-cp1252"),
]


@needs_tool("lnkinfo", "liblnk-utils")
@pytest.mark.parametrize("program", PROGRAMS)
def test_lnkinfo_reads_the_shortcuts_target(program: str, tmp_path: Path):
    path = shortcut(tmp_path, program=program)
    proc = subprocess.run([LNKINFO, str(path)], capture_output=True, text=True, env={"LC_ALL": "C.UTF-8"}, check=False)
    assert proc.returncode == 0, proc.stderr
    fields = {
        key.strip(): value.strip()
        for key, sep, value in (line.partition(":") for line in proc.stdout.splitlines())
        if sep
    }
    assert fields["Local path"] == program
    assert fields["Command line arguments"] == '-m clientcheck login "a b"'
    assert fields["Working directory"] == program.rsplit("\\", 1)[0]
    assert fields["Drive type"] == "Fixed (3)"
    assert fields["Description"].startswith("Checks that this computer's software is up to date.")


@needs_tool("exiftool", "libimage-exiftool-perl")
@pytest.mark.parametrize("program", PROGRAMS)
def test_exiftool_reads_the_same_shortcut(program: str, tmp_path: Path):
    path = shortcut(tmp_path, program=program)
    proc = subprocess.run([EXIFTOOL, "-j", "-LNK:all", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    [tags] = json.loads(proc.stdout)
    assert tags["LocalBasePath"] == program
    assert tags["CommandLineArguments"] == '-m clientcheck login "a b"'
    assert tags["RunWindow"] == "Normal"
    assert set(tags["Flags"].split(", ")) == {"LinkInfo", "Description", "WorkingDir", "CommandArgs", "Unicode"}


@pytest.mark.skipif(LnkParse3 is None, reason="LnkParse3 is not installed (pip install LnkParse3)")
@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_lnkparse3_finds_the_app_user_model_id(system: bool, tmp_path: Path):
    path = shortcut(tmp_path, system=system)
    where = "ProgramData" if system else "Users/jürgen/AppData/Roaming"
    assert path == tmp_path / where / "Microsoft/Windows/Start Menu/Programs/clientcheck.lnk"
    with open(path, "rb") as stream:
        parsed = LnkParse3.lnk_file(stream).get_json()
    [storage] = parsed["extra"]["METADATA_PROPERTIES_BLOCK"]["property_store"]
    assert storage["version"] == "0x53505331"
    assert storage["format_id"] == "9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3"  # System.AppUserModel
    assert storage["serialized_property_values"] == [
        {"id": 5, "value": "clientcheck", "value_size": 41, "value_type": "VT_LPWSTR"}  # System.AppUserModel.ID
    ]
    assert parsed["data"]["command_line_arguments"] == '-m clientcheck login "a b"'


def test_shortcut_structure_follows_ms_shllink(tmp_path: Path):
    """The sizes and offsets a reader relies on, checked field by field against [MS-SHLLINK]."""
    program = "C:\\Users\\Юлия\\pythonw.exe"
    data = shelllink.shell_link(program, arguments="-m clientcheck", app_user_model_id="clientcheck")
    header_size, clsid, flags = struct.unpack_from("<I16sI", data)
    assert header_size == 0x4C and clsid == bytes.fromhex("0114020000000000c000000000000046")
    assert flags == 0x02 | 0x20 | 0x80  # HasLinkInfo, HasArguments, IsUnicode
    assert struct.unpack_from("<QQQ", data, 0x1C) == (0, 0, 0)  # no times: the same bytes every time
    info = 0x4C
    size, info_header, info_flags, volume, base, network, suffix, base_unicode, suffix_unicode = struct.unpack_from(
        "<9I", data, info
    )
    assert (info_header, info_flags, network) == (0x24, 1, 0)  # Unicode offsets present: the path is not ASCII
    assert data[info + base_unicode : info + suffix_unicode].decode("utf-16-le") == program + "\0"
    assert data[info + suffix_unicode : info + size] == b"\0\0"
    volume_size, drive_type, _, label_offset = struct.unpack_from("<4I", data, info + volume)
    assert (volume_size, drive_type, label_offset) == (0x11, 3, 0x10)
    assert data[info + base : info + suffix].endswith(b"\0")
    strings = info + size
    (count,) = struct.unpack_from("<H", data, strings)
    assert data[strings + 2 : strings + 2 + 2 * count].decode("utf-16-le") == "-m clientcheck"
    block = strings + 2 + 2 * count
    block_size, signature = struct.unpack_from("<II", data, block)
    assert signature == 0xA0000009 and block_size >= 0x0C
    assert data[block + block_size :] == b"\0\0\0\0"  # TerminalBlock
    assert shelllink.shell_link(program, arguments="-m clientcheck", app_user_model_id="clientcheck") == data


@pytest.mark.parametrize("target", ["pythonw.exe", "\\\\server\\share\\pythonw.exe", "/usr/bin/python3"])
def test_a_shortcut_needs_a_path_on_a_local_drive(target: str):
    with pytest.raises(shelllink.ShellLinkError, match="not a path on a local drive"):
        shelllink.shell_link(target)


# --- check for updates now ---------------------------------------------------------------------------


def test_the_recheck_protocol_runs_a_fixed_command_and_takes_nothing_from_the_link(tmp_path: Path):
    from clientcheck.inspect.formats.regfile import parse_reg
    from clientcheck.inspect.interface import RECHECK_COMMANDS, recheck_registered
    from clientcheck.inspect.registry import ExportedRegistry
    from clientcheck.notify.windows import RECHECK_URI

    schtasks = Schtasks()
    autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks)
    reg_file = tmp_path / "Users/jürgen/AppData/Local/clientcheck/autostart/clientcheck-protocol.reg"
    assert reg_file.read_bytes().startswith(b"\xff\xfe")  # UTF-16LE with a byte-order mark, as regedit writes
    registry = ExportedRegistry(parse_reg(reg_file.read_bytes()))  # the file as reg import reads it
    key = "HKEY_CURRENT_USER\\Software\\Classes\\clientcheck"
    assert registry.value(key, "URL Protocol") == ""
    command = registry.value(f"{key}\\shell\\open\\command", "")
    assert command == f"{PYTHONW} -m clientcheck login --force"
    assert "%1" not in command  # the link that opens it is never handed on
    assert RECHECK_URI.split(":")[0] == "clientcheck"
    assert recheck_registered(registry)  # what a login run asks before offering the button
    assert f"{key}\\shell\\open\\command" in RECHECK_COMMANDS
    assert schtasks.reg_calls == [
        ["C:\\WINDOWS\\System32\\reg.exe", "query", f"{key}\\shell\\open\\command"],
        ["C:\\WINDOWS\\System32\\reg.exe", "import", str(reg_file)],
    ]
    system = Schtasks()
    autostart.install("windows", system=True, env=ENV, command=COMMAND, root=str(tmp_path), runner=system)
    assert "hkey_local_machine\\software\\classes\\clientcheck\\shell\\open\\command" in system.keys


@pytest.mark.skipif(LnkParse3 is None, reason="LnkParse3 is not installed (pip install LnkParse3)")
def test_the_check_now_shortcut_is_named_in_the_persons_language(tmp_path: Path):
    programs = tmp_path / "Users/jürgen/AppData/Roaming/Microsoft/Windows/Start Menu/Programs"
    schtasks = Schtasks()
    autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks, language="de")
    german = programs / "Jetzt nach Updates suchen.lnk"
    with german.open("rb") as stream:
        link = LnkParse3.lnk_file(stream).get_json()
    assert link["data"]["command_line_arguments"] == "-m clientcheck login --force"
    assert link["data"]["description"].startswith("Prüfen, ob Betriebssystem, Browser und PDF-Betrachter")
    # Installed again in French: the French one replaces the German one; status and uninstall find either.
    changes = autostart.install("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks, language="fr")
    assert ("Start-menu shortcut: check for updates now", "removed") in [(c.kind, c.action) for c in changes]
    assert sorted(path.name for path in programs.iterdir()) == [
        "Rechercher des mises à jour maintenant.lnk",
        "clientcheck.lnk",
    ]
    assert autostart.is_installed(
        autostart.status("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks, language="fr")
    )
    assert not autostart.is_installed(
        autostart.status("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks, language="de")
    )
    autostart.uninstall("windows", env=ENV, command=COMMAND, root=str(tmp_path), runner=schtasks, language="de")
    assert list(programs.iterdir()) == []
