"""One measured run of a command, shared by the benchmarks: wall time, CPU time, the process's own peak RSS
and its exit status, from a small helper interpreter that forks, execs the command and reads ``wait4``.

Why a helper: the kernel counts in a child's ``ru_maxrss`` the memory of the process it was forked from (the
copy that ``exec`` throws away), so a child forked straight from a benchmark would show at least the
benchmark's own size, whatever it runs (a bare interpreter and clientcheck both showed 12.6 MiB where
``/usr/bin/time`` said 8.5 and 12.6). The helper is ``python -I -S`` with nothing imported beyond what the
interpreter loads at start (about 5 MiB); ``floor_kib`` is its own floor (a child that execs
``/bin/true``): figures at or below it say nothing. The wall time starts at the fork, inside the helper, so
the helper's own start-up is not in it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# Forks, execs argv[1:] with its output discarded (stdin from the null device too), and prints "seconds
# cpu_seconds max_rss_kib status". posix only: it is loaded at start, with -I -S.
HELPER = """
import posix, sys, time
null = posix.open("/dev/null", posix.O_RDWR)
start = time.perf_counter()
pid = posix.fork()
if pid == 0:
    posix.dup2(null, 0)
    posix.dup2(null, 1)
    posix.dup2(null, 2)
    try:
        posix.execv(sys.argv[1], sys.argv[1:])
    finally:
        posix._exit(127)
_, status, usage = posix.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, posix.waitstatus_to_exitcode(status))
"""


class Run:
    """One run's figures."""

    __slots__ = ("seconds", "cpu", "rss_kib", "status")

    def __init__(self, seconds: float, cpu: float, rss_kib: int, status: int) -> None:
        self.seconds = seconds
        self.cpu = cpu
        self.rss_kib = rss_kib
        self.status = status


def run_once(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``command`` once (``command[0]`` a path: it is exec'd, not looked up) under the helper."""
    measured = subprocess.run(
        [sys.executable, "-I", "-S", "-c", HELPER, *command], capture_output=True, text=True, check=True, env=env
    )
    seconds, cpu, rss, status = measured.stdout.split()
    return Run(float(seconds), float(cpu), int(rss), int(status))


def floor_kib(runs: int = 3) -> int:
    """The helper's own floor: the peak RSS of a child that execs ``/bin/true``."""
    return max(run_once(["/bin/true"]).rss_kib for _ in range(runs))


class Series:
    """The runs of one command in a comparison, with their medians."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str] | None = None,
        after: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.after = after  # untimed, after each run: waits for what the run left running, say
        self.runs: list[Run] = []

    def run(self) -> Run:
        result = run_once(self.command, self.env)
        self.runs.append(result)
        if self.after is not None:
            self.after()
        return result

    @property
    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(run.cpu for run in self.runs)

    @property
    def p90(self) -> float:
        times = [run.seconds for run in self.runs]
        return statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]

    @property
    def peak_kib(self) -> int:
        return max(run.rss_kib for run in self.runs)

    @property
    def statuses(self) -> str:
        return ",".join(str(status) for status in sorted({run.status for run in self.runs}))


def interleaved(series: list[Series], runs: int, warm: int = 1) -> None:
    """Run each series ``runs`` times in turn (after ``warm`` untimed rounds that fill the page cache), so
    that all see the same conditions on a machine shared with other work."""
    for _ in range(warm):
        for each in series:
            run_once(each.command, each.env)
            if each.after is not None:
                each.after()
    for _ in range(runs):
        for each in series:
            each.run()


def table(series: list[Series]) -> list[str]:
    """The lines of a table of medians, 90th percentiles, CPU medians, peak RSS and exit statuses."""
    width = max(len(each.name) for each in series)
    lines = [f"{'command':<{width}} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'peak RSS MiB':>13}  exit"]
    for each in series:
        lines.append(
            f"{each.name:<{width}} {each.median * 1000:>10.1f} {each.p90 * 1000:>8.1f} {each.cpu * 1000:>8.1f} "
            f"{each.peak_kib / 1024:>13.1f}  {each.statuses}"
        )
    return lines


def installed_script(name: str = "clientcheck") -> str | None:
    """The console script ``name`` beside this interpreter, else on PATH."""
    import shutil

    return shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)


def shebang(script: str) -> tuple[str, list[str]] | None:
    """The interpreter and its flags from ``script``'s ``#!`` line (``#!/usr/bin/python3 -I -S``), or None
    when it has none (a compiled launcher)."""
    with open(script, "rb") as file:
        first = file.readline(4096)
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", errors="surrogateescape").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env" and len(words) > 1:  # #!/usr/bin/env python3
        import shutil

        found = shutil.which(words[1])
        return (found, words[2:]) if found else None
    return words[0], words[1:]
