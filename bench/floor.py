"""Benchmark: clientcheck against the *floor*, what merely reading this machine costs.

Runs ``clientcheck check --format json`` and ``clientcheck login --force`` once each under ``strace`` (in a
throw-away home), collects what they did to the machine's files (opened, and which bytes of each they read;
stat'ed; listed; resolved with readlink; tested with access), leaves out what the interpreter itself
touches at start (what a bare ``python -c pass`` touches, the import path and clientcheck's module files),
and writes the floor script: the same operations, each once, the bytes read in one ``pread`` per range, with
nothing imported (``posix`` is built in and loaded at start, even with ``-S``). Then times, interleaved,
with medians: ``python -c pass``, the floor script, ``check --format json`` and ``login --force``, all with
the interpreter and the flags of the installed console script's ``#!`` line (``--flags`` overrides them),
and prints the ratios check/floor, check/bare and login/bare.

    python bench/floor.py [--runs 31] [--keep DIR] [--flags='-I -S']

Linux only (strace). Run it from an environment where clientcheck is installed from the wheel, as
bench/startup.py is. The trace and the timed runs see the same environment: this one's PATH, LANG=C.UTF-8,
and a throw-away HOME with its XDG folders and clientcheck's state folder (so the machine's own
configuration in /etc is read, as a real run reads it, but no user's, and nothing is written outside it).
bench/speed.py prints these figures with the others of issue 14.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from _measure import Series, installed_script, interleaved, shebang, table  # bench/ is sys.path[0]

# One system call as ``strace -f -y`` prints it: "PID NAME(ARGS) = RESULT[<path>] [ERRNO (text)]".
_CALL = re.compile(
    r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+|0x[0-9a-f]+|\?)"
    r"(?:<(?P<resolved>[^>]*)>)?(?:\s+(?P<errno>E[A-Z0-9]+)\b.*)?$"
)
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+<\.\.\. (?P<name>\w+) resumed>(?P<rest>.*)$")
_DIRFD = re.compile(r"^(?:AT_FDCWD|-?\d+)(?:<(?P<path>[^>]*)>)?, ")
_FD = re.compile(r"^(?P<fd>\d+)(?:<(?P<path>[^>]*)>)?")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)")
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, '"': 34, "\\": 92, "'": 39}
_WRITING = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE")
_STATS = {"stat", "stat64", "lstat", "lstat64", "newfstatat", "fstatat64", "statx"}
_OPENS = {"open", "openat", "openat2", "creat"}


def _unquote(text: str) -> str:
    """A path as strace quotes it (C escapes, octal and hex bytes), as the str ``os`` would take."""

    def byte(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "x" and len(code) == 3:
            value = int(code[1:], 16)
        elif code[0] in "01234567":
            value = int(code, 8)
        else:
            value = _SIMPLE_ESCAPES.get(code, ord(code))
        return chr(0xDC00 + value) if value >= 0x80 else chr(value)  # raw bytes, as surrogateescape

    raw = _ESCAPE.sub(byte, text)
    return os.fsdecode(raw.encode("utf-8", errors="surrogateescape"))


class Touched:
    """What a process did to files, each path once, in the order first seen: ``reads`` maps an opened file
    to the byte ranges read of it (merged; none for an open that read nothing), ``missing`` the opens that
    failed; ``stats`` (following links) and ``lstats``; ``lists`` (directories read); ``links`` (readlink);
    ``accesses``. ``written``: paths opened for writing or changed, which the floor leaves out."""

    def __init__(self) -> None:
        self.reads: dict[str, list[tuple[int, int]]] = {}
        self.missing: dict[str, None] = {}
        self.stats: dict[str, None] = {}
        self.lstats: dict[str, None] = {}
        self.lists: dict[str, None] = {}
        self.links: dict[str, None] = {}
        self.accesses: dict[str, None] = {}
        self.written: dict[str, None] = {}
        self.largest: dict[str, int] = {}  # the most read of a file in one system call

    def kinds(self) -> dict[str, dict[str, Any]]:
        return {
            "read": self.reads,
            "missing": self.missing,
            "stat": self.stats,
            "lstat": self.lstats,
            "list": self.lists,
            "readlink": self.links,
            "access": self.accesses,
        }

    def paths(self) -> set[str]:
        return {path for kind in self.kinds().values() for path in kind} | set(self.written)

    def bytes_read(self) -> int:
        return sum(end - start for ranges in self.reads.values() for start, end in ranges)

    def without(self, leave_out: Callable[[str, str], bool]) -> Touched:
        """A copy without the paths ``leave_out(kind, path)`` says are not the machine's."""
        kept = Touched()
        for (kind, found), (_, into) in zip(self.kinds().items(), kept.kinds().items(), strict=True):
            for path, value in found.items():
                if not leave_out(kind, path):
                    into[path] = value
        kept.written = dict(self.written)
        kept.largest = {path: size for path, size in self.largest.items() if path in kept.reads}
        return kept

    def summary(self) -> str:
        counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in self.kinds().items())
        return f"{counts}; {self.bytes_read():,} bytes read; {len(self.written)} written (left out)"


def _merge(ranges: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted([*ranges, (start, end)]):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _joined(base: str | None, path: str) -> str:
    if path.startswith("/") or base is None:
        return path
    return os.path.normpath(os.path.join(base, path)) if path else base


def parse_trace(lines: Iterable[str]) -> Touched:
    """What the traced processes did to files, from ``strace -f -y`` output (``-e trace=%file,%desc``)."""
    touched = Touched()
    pending: dict[str, str] = {}
    open_files: dict[tuple[str, int], list[object]] = {}  # (pid, fd) -> [path, offset, is directory]
    for raw in lines:
        line = raw.rstrip("\n")
        resumed = _RESUMED.match(line)
        if resumed:
            start = pending.pop(resumed["pid"], None)
            if start is None:
                continue
            line = start + resumed["rest"]
        elif line.endswith(_UNFINISHED):
            found = re.match(r"^(?:\[pid\s+)?(\d+)", line)
            if found:
                pending[found.group(1)] = line[: -len(_UNFINISHED)]
            continue
        call = _CALL.match(line)
        if call is None:
            continue
        _one_call(touched, open_files, call)
    return touched


def _one_call(touched: Touched, open_files: dict[tuple[str, int], list[object]], call: re.Match[str]) -> None:
    name, args, pid = call["name"], call["args"], call["pid"]
    failed = call["errno"] is not None or call["result"].startswith("-")
    result = int(call["result"], 0) if call["result"] != "?" else -1
    if name in _OPENS or name in _STATS or name in {"access", "faccessat", "faccessat2", "readlink", "readlinkat"}:
        base = None
        dirfd = _DIRFD.match(args)
        if name.endswith("at") or name in {"newfstatat", "fstatat64", "statx", "openat2", "faccessat2"}:
            if dirfd is None:
                return
            base = dirfd["path"]
            args = args[dirfd.end() :]
        quoted = _STRING.match(args)
        if quoted is None:
            return
        path = _unquote(quoted.group(1))
        rest = args[quoted.end() :]
        if path == "" and "AT_EMPTY_PATH" in rest:
            return  # fstat of an open file: part of reading it, not another file touched
        path = _joined(base, path)
        if name in _OPENS:
            if name == "creat" or any(flag in rest for flag in _WRITING):
                touched.written.setdefault(path)
            elif failed:
                touched.missing.setdefault(path)
            else:
                directory = "O_DIRECTORY" in rest
                open_files[(pid, result)] = [path, 0, directory]
                if not directory:
                    touched.reads.setdefault(path, [])
        elif name in _STATS:
            nofollow = "AT_SYMLINK_NOFOLLOW" in rest or name.startswith("lstat")
            (touched.lstats if nofollow else touched.stats).setdefault(path)
        elif name.startswith("readlink"):
            touched.links.setdefault(path)
        else:
            touched.accesses.setdefault(path)
        return
    fd_match = _FD.match(args)
    if fd_match is None:
        return
    key = (pid, int(fd_match["fd"]))
    opened = open_files.get(key)
    if name == "close":
        open_files.pop(key, None)
        return
    if opened is None:
        return
    path, offset, directory = opened
    assert isinstance(path, str) and isinstance(offset, int)
    if name in {"getdents64", "getdents"}:
        touched.lists.setdefault(path)
    elif name in {"read", "pread64"} and not failed and result > 0 and not directory:
        if name == "pread64":
            at = re.search(r", (\d+)$", args)
            start = int(at.group(1)) if at else 0
        else:
            start = offset
            opened[1] = offset + result
        touched.reads[path] = _merge(touched.reads.get(path, []), start, start + result)
        touched.largest[path] = max(result, touched.largest.get(path, 0))
    elif name == "lseek" and not failed:
        opened[1] = result
    elif name in {"write", "pwrite64", "ftruncate", "fsync", "fdatasync"}:
        touched.written.setdefault(path)


FLOOR_TEMPLATE = '''\
"""The floor: {what}. Generated by bench/floor.py from a trace on {host}: what reading this machine costs,
the same files opened (and the same bytes read, one pread per range), stat'ed, listed, resolved and tested,
each once, with nothing imported (posix is built in and loaded at start). {summary}."""

from posix import O_CLOEXEC, O_RDONLY, access, close, listdir, lstat, open, pread, readlink, stat, F_OK

READS = {reads}
MISSING = {missing}
STATS = {stats}
LSTATS = {lstats}
LISTS = {lists}
LINKS = {links}
ACCESSES = {accesses}

for path, ranges in READS:
    try:
        fd = open(path, O_RDONLY | O_CLOEXEC)
    except OSError:
        continue
    try:
        for start, length in ranges:
            pread(fd, length, start)
    except OSError:
        pass
    close(fd)
for path in MISSING:
    try:
        close(open(path, O_RDONLY | O_CLOEXEC))
    except OSError:
        pass
for path in STATS:
    try:
        stat(path)
    except OSError:
        pass
for path in LSTATS:
    try:
        lstat(path)
    except OSError:
        pass
for path in LISTS:
    try:
        listdir(path)
    except OSError:
        pass
for path in LINKS:
    try:
        readlink(path)
    except OSError:
        pass
for path in ACCESSES:
    access(path, F_OK)
'''


def floor_script(touched: Touched, what: str, host: str = "") -> str:
    """The floor script's source: ``touched``'s operations, each once."""

    def paths(found: dict[str, None]) -> str:
        return repr(tuple(found))

    reads = tuple(
        (path, tuple((start, end - start) for start, end in ranges)) for path, ranges in touched.reads.items()
    )
    return FLOOR_TEMPLATE.format(
        what=what,
        host=host or os.uname().nodename,
        summary=touched.summary(),
        reads=repr(reads),
        missing=paths(touched.missing),
        stats=paths(touched.stats),
        lstats=paths(touched.lstats),
        lists=paths(touched.lists),
        links=paths(touched.links),
        accesses=paths(touched.accesses),
    )


# --- on the running machine ----------------------------------------------------------------------------------


def trace(command: list[str], env: dict[str, str], folder: str) -> Touched:
    """Run ``command`` once under strace; what it did to files."""
    strace = shutil.which("strace")
    if strace is None:
        raise SystemExit("strace is not installed (apt-get install strace)")
    output = os.path.join(folder, "trace.txt")
    subprocess.run(
        [strace, "-f", "-qq", "-y", "-e", "trace=%file,%desc", "-e", "signal=none", "-o", output, *command],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    with open(output, encoding="utf-8", errors="surrogateescape") as file:
        touched = parse_trace(file)
    os.unlink(output)
    return touched


def interpreter_paths(python: str, script: str) -> tuple[set[str], list[str]]:
    """What the interpreter itself touches: the paths a bare ``python -c pass`` touches is found by tracing;
    here, the import path (of the interpreter with site, where the package is found) and the package's
    folder, whose module files are the interpreter's business (the script's folder among them); and the
    console script and its folders, which the interpreter resolves at start."""
    found = subprocess.run(
        [python, "-c", "import sys; print(*sys.path, sep='\\n')"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # The package as this benchmark's environment has it (the one the script runs), found without importing it.
    spec = importlib.util.find_spec("clientcheck")
    found += list(spec.submodule_search_locations or []) if spec is not None else []
    found.append(os.path.dirname(script))  # the script's folder is the import path's first entry
    roots = sorted({path for entry in found if entry for path in (entry, os.path.realpath(entry))})
    own = {script}
    folder = script
    while folder not in ("/", ""):
        folder = os.path.dirname(folder)
        own.add(folder)
    return own, roots


def machine_only(touched: Touched, bare: Touched, own: set[str], roots: list[str]) -> Touched:
    """``touched`` without the interpreter's own files: the bare interpreter's, module files, the import
    path (but the package's ``data`` folder, which it reads as data: the bundled rules, the catalogs)."""
    interpreter = bare.paths()

    def leave_out(kind: str, path: str) -> bool:
        if path in interpreter or path.endswith((".py", ".pyc", ".pth", ".so")) or "/__pycache__" in path:
            return True
        if path in own and kind in {"readlink", "lstat", "stat"}:
            return True
        for root in roots:
            if (path == root or path.startswith(root + "/")) and "/clientcheck/data" not in path:
                return True
        return path.startswith(("/dev/", "/proc/self/")) or path == "/dev/null"

    return touched.without(leave_out)


def throwaway_environment(home: str) -> dict[str, str]:
    """This run's PATH and a home of its own, made as a login makes it (the runtime folder 0700), and the
    state folder in it (a run as root would keep it in /var/lib)."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOME": home}
    env["CLIENTCHECK_STATE_DIR"] = os.path.join(home, ".local", "state", "clientcheck")
    for name, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        env[name] = os.path.join(home, folder)
        os.makedirs(env[name], mode=0o700, exist_ok=True)
    return env


class Comparison:
    """The four commands of the floor comparison, with their series once measured."""

    def __init__(self, script: str, python: str, flags: list[str], env: dict[str, str], folder: str) -> None:
        self.script, self.python, self.flags, self.env = script, python, flags, env
        check = [script, "check", "--format", "json"]
        login = [script, "login", "--force"]
        bare = trace([python, *flags, "-c", "pass"], env, folder)
        own, roots = interpreter_paths(python, script)
        self.touched = machine_only(trace(check, env, folder), bare, own, roots)
        self.login_touched = machine_only(trace(login, env, folder), bare, own, roots)
        self.floor_path = os.path.join(folder, "floor_check.py")
        with open(self.floor_path, "w", encoding="utf-8") as file:
            file.write(floor_script(self.touched, "clientcheck check --format json"))
        shown = " ".join(["python", *flags])
        self.bare = Series(f"{shown} -c pass", [python, *flags, "-c", "pass"], env)
        self.floor = Series(f"{shown} floor_check.py", [python, *flags, self.floor_path], env)
        self.check = Series("clientcheck check --format json", check, env)
        self.login = Series("clientcheck login --force", login, env)

    def series(self) -> list[Series]:
        return [self.bare, self.floor, self.check, self.login]

    def ratios(self) -> list[str]:
        return [
            f"check / floor: {self.check.median / self.floor.median:.2f}x   goal: <= 1.5x",
            f"check / bare:  {self.check.median / self.bare.median:.2f}x   goal: <= 2.1x",
            f"login / bare:  {self.login.median / self.bare.median:.2f}x   goal: <= 2.5x",
            f"floor / bare:  {self.floor.median / self.bare.median:.2f}x   (what reading the machine adds)",
        ]


def interpreter_of(script: str, flags: str | None) -> tuple[str, list[str]]:
    """The interpreter and flags the console script runs with (its ``#!`` line), or ``--flags``."""
    python, found = shebang(script) or (sys.executable, [])
    return python, found if flags is None else flags.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--flags", help="the interpreter's flags for every run (default: the script's #! line's)")
    parser.add_argument("--keep", metavar="DIR", help="write the floor script (and login's) to DIR, to read them")
    args = parser.parse_args()
    script = installed_script()
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    python, flags = interpreter_of(script, args.flags)
    with tempfile.TemporaryDirectory(prefix="clientcheck-floor-") as folder:
        env = throwaway_environment(os.path.join(folder, "home"))
        comparison = Comparison(script, python, flags, env, folder)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            shutil.copy(comparison.floor_path, os.path.join(args.keep, "floor_check.py"))
            with open(os.path.join(args.keep, "floor_login.py"), "w", encoding="utf-8") as file:
                file.write(floor_script(comparison.login_touched, "clientcheck login --force"))
        interleaved(comparison.series(), args.runs)
    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(f"interpreter {python} {' '.join(flags) or '(no flags)'}; {args.runs} runs each, interleaved")
    print(f"check touched: {comparison.touched.summary()}")
    print(f"login touched: {comparison.login_touched.summary()}")
    print("\n".join(table(comparison.series())))
    print("\n".join(comparison.ratios()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
