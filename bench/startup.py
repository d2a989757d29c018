"""Benchmark: one whole ``clientcheck check --format json`` run, offline with the bundled rules, against a
bare ``python -c pass`` on the same machine, interleaved so both see the same conditions.

Prints medians, the ratio, and peak RSS. Not a pass/fail test: the goals (<= 3x a bare interpreter,
<= 30 MiB peak RSS) are read off its output and recorded in docs/verification.md.

    python bench/startup.py [--runs 31] [-- extra clientcheck arguments]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def run_once(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB, and exit status of one run of ``command``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("extra", nargs="*", help="extra clientcheck arguments (after --)")
    args = parser.parse_args()

    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or shutil.which("clientcheck")
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    baseline = [sys.executable, "-c", "pass"]
    agent = [script, "check", "--format", "json", *args.extra]

    found = subprocess.run([script, "inventory", "--format", "json"], capture_output=True, text=True, check=True)
    installed = found.stdout.count('"product"')
    for command in (baseline, agent):  # warm the page cache once, untimed
        run_once(command)
    base_times, agent_times, base_rss, agent_rss, statuses = [], [], [], [], set()
    for _ in range(args.runs):
        elapsed, rss, _status = run_once(baseline)
        base_times.append(elapsed)
        base_rss.append(rss)
        elapsed, rss, status = run_once(agent)
        agent_times.append(elapsed)
        agent_rss.append(rss)
        statuses.add(status)

    base = statistics.median(base_times)
    full = statistics.median(agent_times)
    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(f"browsers and PDF viewers found: {installed}; runs: {args.runs} each, interleaved; exit statuses {statuses}")
    print(f"{'command':<42} {'median ms':>10} {'p90 ms':>8} {'peak RSS MiB':>13}")
    for name, times, rss in (
        ("python -c pass", base_times, base_rss),
        (" ".join(["clientcheck", *agent[1:]]), agent_times, agent_rss),
    ):
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"{name:<42} {statistics.median(times) * 1000:>10.1f} {p90 * 1000:>8.1f} {max(rss) / 1024:>13.1f}")
    print(f"ratio (median clientcheck / median python -c pass): {full / base:.2f}x   goal: <= 3x")
    print(f"peak RSS of clientcheck: {max(agent_rss) / 1024:.1f} MiB   goal: <= 30 MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
