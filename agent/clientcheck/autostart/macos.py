"""macOS: a LaunchAgent, ``org.clientcheck.agent.plist``, per user (``~/Library/LaunchAgents``) or for every
user (``/Library/LaunchAgents``).

``RunAtLoad`` is the login run (launchd loads the user's agents when the Aqua session starts);
``StartCalendarInterval`` re-checks every 4 hours, and unlike ``StartInterval`` it catches up on a run missed
during sleep. A per-user install is loaded at once with ``launchctl bootstrap`` (through the injected
runner); a system-wide one is loaded by each user's next login.
"""

from __future__ import annotations

import sys

from clientcheck.autostart.entries import (
    AutostartError,
    Change,
    Entry,
    EntryStatus,
    entry_status,
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
    refuse_strangers([entry])
    prepare_folders([os.path.dirname(entry.path)], system=options.system, platform=options.platform)
    changes = [write_entry(entry)]
    if _loads_now(options) and changes[0].action != "unchanged":
        # bootstrap refuses a label that is already loaded: unload the old definition first (an error here
        # only means it was not loaded).
        run(options, "launchctl", [LAUNCHCTL, "bootout", f"{_gui_domain()}/{LABEL}"], quiet_failure=True)
        loaded = run(options, "launchctl", [LAUNCHCTL, "bootstrap", _gui_domain(), entry.path])
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
    return changes


def status(options: Options) -> list[EntryStatus]:
    found = entry_status(_entry(options))
    return [found] if found is not None else []
