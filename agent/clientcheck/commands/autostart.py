"""``clientcheck autostart install|uninstall|status``: the login entries that run ``clientcheck login``, on
this machine (``clientcheck.autostart`` writes them for any OS)."""

from __future__ import annotations

from clientcheck.deliver import write_stream
from clientcheck.errors import ExitStatus, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.arguments import Parsed


def autostart(args: Parsed, env: Mapping[str, str]) -> int:
    from clientcheck import autostart
    from clientcheck.platforms import this_platform

    action, system, method = args.command[1], args.system, args.method
    platform = this_platform()
    if method is not None and platform != "linux":
        raise UsageError("--method is for Linux only: this OS has one way to run at login")
    method = method or "auto"
    runner = autostart.run_command  # systemctl --user, launchctl, schtasks, reg: on this machine
    # The language of the installing person's desktop names Windows' "Check for updates now" shortcut.
    language = _language(env)
    if action == "status":
        statuses = autostart.status(platform, system=system, method=method, env=env, runner=runner, language=language)
        write_stream(autostart.describe_status(statuses))
        return ExitStatus.OK if autostart.is_installed(statuses) else ExitStatus.OWED
    if action == "install" and system:
        import os

        import clientcheck

        # The machine run is root's (or SYSTEM's): what it runs must be root's alone.
        package = os.path.dirname(os.path.abspath(clientcheck.__file__))
        autostart.refuse_untrusted_program(autostart.default_command(platform), modules=(package,))
    act = autostart.install if action == "install" else autostart.uninstall
    changes = act(platform, system=system, method=method, env=env, runner=runner, language=language)
    write_stream(autostart.describe(changes))
    return ExitStatus.OK


def _language(env: Mapping[str, str]) -> str:
    from clientcheck.commands import interface_languages
    from clientcheck.language import catalog_languages, choose_language

    return choose_language(None, env, catalog_languages, lambda _: None, interface_languages(env))
