"""macOS: a LaunchAgent, ``org.clientcheck.agent.plist``, per user (``~/Library/LaunchAgents``) or for every
user (``/Library/LaunchAgents``).

``RunAtLoad`` is the login run (launchd loads the user's agents when the Aqua session starts);
``StartCalendarInterval`` re-checks every 4 hours, and unlike ``StartInterval`` it catches up on a run missed
during sleep. A per-user install is loaded at once with ``launchctl bootstrap`` (through the injected
runner); a system-wide one is loaded by each user's next login.

For every user (``--system``) there is also the machine-level run: a LaunchDaemon,
``/Library/LaunchDaemons/org.clientcheck.machine.plist``, run by launchd as root at load and every hour:
``clientcheck ship --check --scheduled`` judges the Mac and ships its report to the collector. With a
runner it is loaded at once (``launchctl bootstrap system``).
"""

from __future__ import annotations

import sys

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
from clientcheck.autostart.templates import render_plist

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.autostart.entries import Options

LABEL = "org.clientcheck.agent"
PLIST = f"{LABEL}.plist"
KIND = "LaunchAgent"
MACHINE_LABEL = "org.clientcheck.machine"
MACHINE_PLIST = f"{MACHINE_LABEL}.plist"
MACHINE_KIND = "LaunchDaemon (the machine run)"
MACHINE_LOG = "/Library/Logs/clientcheck-machine.log"
LAUNCHCTL = "/bin/launchctl"


def _home(options: Options) -> str:
    home = options.env_value("HOME")
    if not home or not home.startswith("/"):
        raise AutostartError("HOME is not set to an absolute path: cannot tell where the user's LaunchAgents are")
    return home.rstrip("/") or "/"


def agent_path(options: Options) -> str:
    """The plist's path on the machine."""
    if options.system:
        return f"/Library/LaunchAgents/{PLIST}"
    return f"{_home(options)}/Library/LaunchAgents/{PLIST}"


def _entry(options: Options) -> Entry:
    import posixpath

    # launchd expands no "~": a per-user log goes in the user's own Logs folder; an agent for every user
    # has no one folder all of them may write, so it logs nowhere.
    log = "/dev/null" if options.system else f"{_home(options)}/Library/Logs/clientcheck.log"
    content = render_plist(
        PLIST,
        {"working_directory": posixpath.dirname(options.command[0]) or "/", "log": log},
        {"command": options.command},
    )
    marker = f"<string>{LABEL}</string>".encode()  # plistlib keeps no comment: the Label marks it ours
    return Entry(KIND, options.host_path(agent_path(options)), content=content, marker=marker)


def _machine_entry(options: Options) -> Entry:
    content = render_plist(MACHINE_PLIST, {"log": MACHINE_LOG}, {"command": machine_command(options.command)})
    marker = f"<string>{MACHINE_LABEL}</string>".encode()
    return Entry(
        MACHINE_KIND, options.host_path(f"/Library/LaunchDaemons/{MACHINE_PLIST}"), content=content, marker=marker
    )


def _loads_machine_now(options: Options) -> bool:
    return options.system and options.runner is not None


def _gui_domain() -> str:
    """launchctl's domain for this user's graphical session: ``gui/<uid>``."""
    if sys.platform == "win32":
        raise AutostartError("launchctl runs on macOS only")
    import os

    return f"gui/{os.getuid()}"


def _loads_now(options: Options) -> bool:
    return not options.system and options.runner is not None


def install(options: Options) -> list[Change]:
    import os

    entry = _entry(options)
    entries = [entry, _machine_entry(options)] if options.system else [entry]
    refuse_strangers(entries)
    prepare_folders([os.path.dirname(item.path) for item in entries], system=options.system, platform=options.platform)
    changes = [write_entry(entry)]
    if _loads_now(options) and changes[0].action != "unchanged":
        # bootstrap refuses a label that is already loaded: unload the old definition first (an error here
        # only means it was not loaded).
        run(options, "launchctl", [LAUNCHCTL, "bootout", f"{_gui_domain()}/{LABEL}"], quiet_failure=True)
        loaded = run(options, "launchctl", [LAUNCHCTL, "bootstrap", _gui_domain(), entry.path])
        changes += [loaded] if loaded else []
    if options.system:
        daemon = entries[1]
        written = write_entry(daemon)
        changes.append(written)
        if _loads_machine_now(options) and written.action != "unchanged":
            run(options, "launchctl", [LAUNCHCTL, "bootout", f"system/{MACHINE_LABEL}"], quiet_failure=True)
            loaded = run(options, "launchctl", [LAUNCHCTL, "bootstrap", "system", daemon.path])
            changes += [loaded] if loaded else []
    return changes


def uninstall(options: Options) -> list[Change]:
    import os

    entry = _entry(options)
    changes: list[Change] = []
    if os.path.lexists(entry.path):
        prepare_folders([os.path.dirname(entry.path)], system=options.system, platform=options.platform)
        if _loads_now(options):
            unloaded = run(options, "launchctl", [LAUNCHCTL, "bootout", f"{_gui_domain()}/{LABEL}"], quiet_failure=True)
            changes += [unloaded] if unloaded else []
    # /Library/LaunchAgents belongs to the system; ~/Library/LaunchAgents goes once empty.
    library = None if options.system else options.host_path(f"{_home(options)}/Library")
    changes.insert(0, remove_entry(entry, system=options.system, platform=options.platform, prune_to=library))
    if options.system:
        daemon = _machine_entry(options)
        if os.path.lexists(daemon.path):
            prepare_folders([os.path.dirname(daemon.path)], system=True, platform=options.platform)
            if _loads_machine_now(options):
                unloaded = run(
                    options, "launchctl", [LAUNCHCTL, "bootout", f"system/{MACHINE_LABEL}"], quiet_failure=True
                )
                changes += [unloaded] if unloaded else []
        changes.append(remove_entry(daemon, system=True, platform=options.platform))
        changes.append(_remove_machine_log(options))
    return changes


KIND_MACHINE_LOG = "machine run's log"


def _remove_machine_log(options: Options) -> Change:
    """The log launchd kept for the machine run (it writes it as root): a regular file of that name only;
    a link in its place is not followed, nor removed."""
    import os
    import stat

    path = options.host_path(MACHINE_LOG)
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return Change(KIND_MACHINE_LOG, path, "absent")
    except OSError as error:
        raise AutostartError(f"cannot look at {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(found.st_mode):
        return Change(KIND_MACHINE_LOG, path, "kept", "not a regular file")
    try:
        os.unlink(path)
    except OSError as error:
        raise AutostartError(f"cannot remove {path}: {error.strerror or error}") from None
    return Change(KIND_MACHINE_LOG, path, "removed")


def status(options: Options) -> list[EntryStatus]:
    entries = [_entry(options), _machine_entry(options)] if options.system else [_entry(options)]
    return [found for found in (entry_status(entry) for entry in entries) if found is not None]
