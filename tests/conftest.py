from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

from clientcheck.cli import main
from clientcheck.config import Places
from throwaway_root import ThrowawayRoot, ThrowawayRootError

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
LINUX_FIXTURES = FIXTURES / "linux"
DESIGN_EXAMPLE = REPO / "rules" / "examples" / "design-example.json"
DEFAULT_RULES = REPO / "agent" / "clientcheck" / "data" / "default-rules.json"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)

# The caller's environment, read once before the tests replace it (see pytest_configure). CI=true: .ci/run
# has installed every prerequisite, so a test that would skip fails instead (pytest_runtest_makereport).
CALLER_ENV = dict(os.environ)
CI = CALLER_ENV.get("CI", "").strip().lower() == "true"

# Property tests explore new inputs on a developer's machine (and remember failures in .hypothesis/), but
# CI runs the same examples every time: a test that fails there fails for everyone, not one run in fifty,
# and the failing input is printed to reproduce. bench/mutation.py runs the "mutation" profile, where a
# mutant must be killed or not by the same inputs each time it is tried.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("mutation", derandomize=True, database=None)
settings.load_profile(CALLER_ENV.get("HYPOTHESIS_PROFILE") or ("ci" if CI else "default"))


def load_hatch_build():
    """The repository's build hook (hatch_build.py: extracting and compiling the translations), as a module."""
    import importlib.util
    import sys

    module = sys.modules.get("hatch_build")
    if module is None:
        spec = importlib.util.spec_from_file_location("hatch_build", REPO / "hatch_build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["hatch_build"] = module
        spec.loader.exec_module(module)
    return module


def linux_cases() -> list[Path]:
    return sorted(path for path in LINUX_FIXTURES.iterdir() if (path / "root").is_dir())


# --- the environment every test runs in ------------------------------------------------------------------
#
# Nothing of the caller's environment reaches a test, in-process or in a subprocess it starts, but PATH (to
# find the tools) and TMPDIR (where pytest keeps its folders): no CLIENTCHECK_* setting, no locale, no proxy,
# no session bus or display, no PYTHON* variable. Each test gets a home of its own with its XDG folders
# (configuration, data, state, cache, runtime), so neither the user's configuration nor their state is
# read or written, and XDG_CONFIG_DIRS points there too, so the machine's /etc/xdg/clientcheck is not read
# either. A run as root keeps its rule cache and rollback floor there, not in /var/cache and /var/lib. The
# one place no variable moves is the managed policy, /etc/clientcheck/managed.toml (an administrator's policy
# must not be escapable through the environment): the report header says when this machine has one.

_HOME_FOLDERS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
    "XDG_CACHE_HOME": ".cache",
    "XDG_CONFIG_DIRS": "xdg-config-dirs",
    "XDG_RUNTIME_DIR": "runtime",
    "CLIENTCHECK_CACHE_DIR": ".cache/clientcheck",
    "CLIENTCHECK_STATE_DIR": ".local/state/clientcheck",
}
# The folders a run as root would otherwise keep in /var/cache and /var/lib: an in-process run is given
# these from the test's home too, unless the test gives an environment of its own.
_RUN_FOLDERS = ("CLIENTCHECK_CACHE_DIR", "CLIENTCHECK_STATE_DIR")
MACHINE_CONFIGURATION = ("/etc/clientcheck/managed.toml",)


def home_environment(home: Path) -> dict[str, str]:
    """HOME and the XDG folders in ``home``, made as a login would make them (the runtime folder 0700)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "runtime").mkdir(mode=0o700, exist_ok=True)
    return {"HOME": str(home), **{name: str(home / folder) for name, folder in _HOME_FOLDERS.items()}}


def clean_environment(home: Path) -> dict[str, str]:
    user = pwd.getpwuid(os.geteuid()).pw_name
    env = {"PATH": CALLER_ENV.get("PATH") or os.defpath, "LANG": "C.UTF-8", "TZ": "UTC", "USER": user, "LOGNAME": user}
    for name in ("TMPDIR", "PYTEST_VERSION"):  # where pytest keeps its folders; pytest's own marker
        if CALLER_ENV.get(name):
            env[name] = CALLER_ENV[name]
    return {**env, **home_environment(home)}


# What pip needs to reach its index as the caller set it up (a proxy, a mirror, certificates): only for the
# tests that build a package, never for the code under test.
_DOWNLOAD_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")


def download_environment() -> dict[str, str]:
    """The test's environment plus the caller's pip and proxy settings: for a build that runs pip."""
    env = dict(os.environ)
    env.pop("XDG_CONFIG_DIRS", None)  # pip's site configuration is in /etc/xdg/pip
    for name, value in CALLER_ENV.items():
        if name.startswith("PIP_") or name in _DOWNLOAD_VARIABLES or name.lower() in _DOWNLOAD_VARIABLES:
            env[name] = value
    if "PIP_CONFIG_FILE" not in env:
        # The caller's own pip.conf, found from their home: pip would look in the test's home instead.
        home = CALLER_ENV.get("HOME", "")
        config_home = CALLER_ENV.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
        for path in (f"{config_home}/pip/pip.conf", f"{home}/.pip/pip.conf"):
            if path.startswith("/") and os.path.isfile(path):
                env["PIP_CONFIG_FILE"] = path
                break
    return env


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        dest="update_goldens",
        help="write tests/golden/ from this run's reports instead of comparing (test_golden_reports.py)",
    )


_session_home: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Before collection, so module-level code and session fixtures already see the clean environment.
    home = tempfile.mkdtemp(prefix="clientcheck-tests-home-")
    _session_home.append(home)
    os.environ.clear()
    os.environ.update(clean_environment(Path(home)))
    time.tzset()


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.clear()
    os.environ.update(CALLER_ENV)
    time.tzset()
    for home in _session_home:
        shutil.rmtree(home, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = [path for path in MACHINE_CONFIGURATION if os.path.lexists(path)]
    if not found:
        return []
    return [f"warning: this machine has {', '.join(found)}: clientcheck run as a subprocess obeys it"]


@pytest.fixture(autouse=True)
def _a_home_of_its_own(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts with an empty home and XDG folders of its own (the session's are shared by
    module fixtures): what one test leaves there, another cannot read."""
    home = tmp_path_factory.mktemp("home")
    for name, value in home_environment(home).items():
        monkeypatch.setenv(name, value)
    return home


# --- prerequisites -----------------------------------------------------------------------------------------


def missing(reason: str) -> NoReturn:
    """A prerequisite of the test is not here: skip it, saying which (under CI=true the skip becomes a
    failure, see pytest_runtest_makereport)."""
    pytest.skip(reason)


def require_tool(name: str, package: str | None = None) -> str:
    """The path of the program ``name``; the test skips without it, naming the Debian package to install."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (apt-get install {package or name}; .ci/run installs it)")
    return path


def needs_tool(name: str, package: str | None = None) -> pytest.MarkDecorator:
    """``require_tool`` as a mark, for a whole test or module."""
    return pytest.mark.skipif(
        shutil.which(name) is None,
        reason=f"{name} is not installed (apt-get install {package or name}; .ci/run installs it)",
    )


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        missing(f"{what} needs root (CI runs the tests as root)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    _fail_a_skip_under_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _fail_a_skip_under_ci(outcome.get_result())


def _fail_a_skip_under_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI=true every prerequisite is installed (.ci/run): a skip there would be a test that can no
    longer fail, so it is a failure, with the skip's reason. One place for every skip: a skipif mark, a
    pytest.skip in a test or fixture, an importorskip."""
    if not CI or not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where every prerequisite is installed: {reason}"


# --- another user -------------------------------------------------------------------------------------------


@dataclass
class Nobody:
    """How a test runs something as the unprivileged user nobody: ``prefix`` before any command, ``python``
    to run the agent's code (the system's python3, with ``env`` making a copy of the package importable)."""

    uid: int
    prefix: list[str]
    python: list[str]
    env: dict[str, str]


@pytest.fixture(scope="session")
def nobody() -> Nobody:
    """Needs root and setpriv. The package is copied, as the wheel lays it out, to a folder anyone may read,
    and run by /usr/bin/python3: nobody may not be able to reach this checkout or the venv's interpreter
    (under /root, say)."""
    require_root("running as nobody")
    setpriv = require_tool("setpriv", "util-linux")
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        missing("the system's python3 is not installed (apt-get install python3)")
    entry = pwd.getpwnam("nobody")
    prefix = [setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"]
    shared = Path(tempfile.mkdtemp(prefix="clientcheck-nobody-"))
    try:
        package = shared / "clientcheck"
        # The package as the wheel installs it: its data/ folder holds everything it reads.
        shutil.copytree(REPO / "agent" / "clientcheck", package, ignore=shutil.ignore_patterns("*.pyc"))
        for folder, _directories, files in os.walk(shared):
            os.chmod(folder, 0o755)  # noqa: S103 - nobody must read the copy
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "PYTHONPATH": str(shared), "PYTHONDONTWRITEBYTECODE": "1"}
        probe = subprocess.run([*prefix, python, "-c", "import clientcheck"], env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            missing(f"nobody cannot run {python} with the package: {probe.stderr.strip()[-200:]}")
        yield Nobody(entry.pw_uid, prefix, [*prefix, python], env)
    finally:
        shutil.rmtree(shared)


# --- a throw-away root ---------------------------------------------------------------------------------------


def make_throwaway_root(folder: Path) -> ThrowawayRoot:
    """A started ThrowawayRoot with its layers in ``folder``; skips (fails under CI) where one cannot be made."""
    root = ThrowawayRoot(folder)
    try:
        root.start()
    except ThrowawayRootError as error:
        missing(str(error))
    return root


@pytest.fixture
def throwaway_root(tmp_path_factory: pytest.TempPathFactory):
    """This machine's root, for this test only: dpkg, maintainer scripts and services run in it with
    ``throwaway_root.run([...])`` change an overlay, never the machine (see throwaway_root.py)."""
    root = make_throwaway_root(tmp_path_factory.mktemp("throwaway-root"))
    try:
        yield root
    finally:
        root.stop()


# --- the command line in-process -----------------------------------------------------------------------------


@dataclass
class Run:
    status: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory):
    """Run the command line in-process with a fixed clock, an empty environment (no user locale) and no
    configuration files (``places`` names others), whatever this machine has in /etc."""
    nowhere = tmp_path_factory.mktemp("no-config")
    empty = Places(machine=str(nowhere / "machine.toml"), user=None, managed=str(nowhere / "managed.toml"))

    def run(*args: str, env: dict[str, str] | None = None, now: dt.datetime = NOW, places: Places | None = None) -> Run:
        if env is None:
            env = {name: os.environ[name] for name in _RUN_FOLDERS if name in os.environ}
        status = main(list(args), env=env, now=now, places=places or empty)
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run
