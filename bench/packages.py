"""Benchmark: what each installed package costs a whole ``clientcheck check --format json`` run.

Generates Debian ``--root`` trees of N dpkg packages (the debian-12-desktop fixture's browsers and PDF
viewers among N real-looking stanzas, see tests/dpkg_machines.py), runs whole processes on each, interleaved,
and prints per N the median wall and CPU time (user and system, from ``wait4``: on a busy machine it varies
less than wall time) and the child's own peak RSS, then the cost per 1,000 packages (the slope of a
least-squares line through the medians). Not a pass/fail test: the goals (flat, and at most
14 MiB peak RSS at 15,000 packages) are read off its output and recorded in docs/verification.md.

    python bench/packages.py [--counts 1000,5000,15000,30000] [--runs 11] [-- extra clientcheck arguments]

Each run is started by a small helper interpreter (``python -I -S``) that forks, execs clientcheck and
reads the child's ``ru_maxrss`` from ``wait4``. The kernel counts in a child's peak the memory of the process
it was forked from (the copy exec throws away), so a child forked straight from this benchmark would show
the benchmark's own size; the helper is small, and its own floor (a child that execs ``/bin/true``) is
printed: figures at or below it say nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dpkg_machines import STATUS, debian_machine  # found through the line above

# Runs one command: forks, execs it with its output discarded, and prints "seconds cpu_seconds max_rss_kib
# status".
HELPER = """
import os, sys, time
null = os.open(os.devnull, os.O_WRONLY)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_once(command: list[str]) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, the child's own peak RSS in KiB, and its exit status."""
    measured = subprocess.run(
        [sys.executable, "-I", "-S", "-c", HELPER, *command], capture_output=True, text=True, check=True
    )
    seconds, cpu, rss, status = measured.stdout.split()
    return float(seconds), float(cpu), int(rss), int(status)


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of y over x."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def judged(script: str, root: Path, extra: list[str]) -> str:
    """What the report says of the machine's browsers and PDF viewers: each one's version, or why not."""
    proc = subprocess.run(
        [script, "check", "--format", "json", "--root", str(root), "--platform", "linux", *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(proc.stdout)
    unknown = [item["product"] for item in report["software"] if item.get("version") is None]
    found = len(report["software"])
    return f"{found} found, all versions read" if not unknown else f"{found} found, unknown: {', '.join(unknown)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000,15000,30000", help="package counts, comma-separated")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("extra", nargs="*", help="extra clientcheck arguments (after --)")
    args = parser.parse_args()
    counts = sorted({int(count) for count in args.counts.split(",")})

    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or shutil.which("clientcheck")
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="clientcheck-bench-") as scratch:
        roots = {count: debian_machine(Path(scratch) / str(count), count) for count in counts}
        commands = {
            count: [script, "check", "--format", "json", "--root", str(root), "--platform", "linux", *args.extra]
            for count, root in roots.items()
        }
        verdicts = {count: judged(script, root, args.extra) for count, root in roots.items()}
        for command in commands.values():  # warm the page cache once, untimed
            run_once(command)
        floor = max(run_once(["/bin/true"])[2] for _ in range(3))
        times: dict[int, list[float]] = {count: [] for count in counts}
        cpus: dict[int, list[float]] = {count: [] for count in counts}
        peaks: dict[int, list[int]] = {count: [] for count in counts}
        statuses: dict[int, set[int]] = {count: set() for count in counts}
        for _ in range(args.runs):
            for count, command in commands.items():
                seconds, cpu, rss, status = run_once(command)
                times[count].append(seconds)
                cpus[count].append(cpu)
                peaks[count].append(rss)
                statuses[count].add(status)
        sizes = {count: (root / STATUS).stat().st_size for count, root in roots.items()}

    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(
        f"runs: {args.runs} per count, interleaved; helper floor (peak RSS of a child that runs /bin/true): "
        f"{floor / 1024:.1f} MiB"
    )
    print(
        f"{'packages':>9} {'status MB':>10} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'peak RSS MiB':>13}"
        "  exit  report"
    )
    for count in counts:
        p90 = statistics.quantiles(times[count], n=10)[-1] if len(times[count]) > 1 else times[count][0]
        print(
            f"{count:>9} {sizes[count] / 1e6:>10.1f} {statistics.median(times[count]) * 1000:>10.1f} "
            f"{p90 * 1000:>8.1f} {statistics.median(cpus[count]) * 1000:>8.1f} {max(peaks[count]) / 1024:>13.1f}"
            f"  {','.join(map(str, sorted(statuses[count]))):>4}  {verdicts[count]}"
        )
    if len(counts) > 1:
        wall = slope([(count / 1000, statistics.median(times[count]) * 1000) for count in counts])
        cpu_time = slope([(count / 1000, statistics.median(cpus[count]) * 1000) for count in counts])
        memory = slope([(count / 1000, max(peaks[count]) / 1024) for count in counts])
        print(
            f"cost per 1,000 packages: {wall:.3f} ms wall, {cpu_time:.3f} ms CPU, {memory:.3f} MiB peak RSS"
            "   goal: flat"
        )
    if 15000 in peaks:
        print(f"peak RSS at 15,000 packages: {max(peaks[15000]) / 1024:.1f} MiB   goal: <= 14 MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
