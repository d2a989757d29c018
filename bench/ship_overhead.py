"""Benchmark: what shipping to a collector costs a check. Whole ``clientcheck check --format json`` runs,
interleaved: with no collector set up, and enrolled (the check spools its report: one atomic write), as the
machine-level run it is when run as root; then, in this process, the parts: the spool write (and how many
fsyncs it makes) and starting the detached shipper.

    python bench/ship_overhead.py [--runs 31]

Run as root (a machine-level check is root's), from an environment where clientcheck is installed; with
byte-code caching on (not PYTHONDONTWRITEBYTECODE), or the figures measure the compiler.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def enrolled_folder(base: str) -> str:
    """A state folder enrolled at a collector that is not due for an hour: a check spools, and starts no
    shipper (it would only wait)."""
    from clientcheck.collector.folder import Collector, Enrollment, Schedule

    folder = os.path.join(base, "enrolled")
    collector = Collector(os.path.join(folder, "collector"), "machine")
    collector.ensure()
    agent_id = collector.make_agent_id()
    collector.save_enrollment(
        Enrollment("https://collector.invalid", agent_id, "cck_" + "A" * 43, 1, "machine", None, "now", None)
    )
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    collector.save_schedule(Schedule(later, "check-in", 0, None, ""))
    return folder


def parts(script: str, folder: str, runs: int) -> None:
    from clientcheck.collector import detach
    from clientcheck.collector.folder import Collector

    report = subprocess.run(
        [script, "check", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLIENTCHECK_STATE_DIR": os.path.join(folder, "parts")},
        check=False,
    ).stdout
    collector = Collector(os.path.join(folder, "parts", "collector"), "machine")
    collector.ensure()
    synced = []
    real_fsync = os.fsync
    os.fsync = lambda descriptor: synced.append(descriptor) or real_fsync(descriptor)  # type: ignore[assignment]
    writes = []
    for _ in range(runs):
        start = time.perf_counter()
        collector.spool.add(report, dt.datetime.now(dt.timezone.utc))
        writes.append(time.perf_counter() - start)
    os.fsync = real_fsync  # type: ignore[assignment]
    spawns = []
    for _ in range(runs):
        start = time.perf_counter()
        pid = detach.start_shipper({}, ["/bin/true"])
        spawns.append(time.perf_counter() - start)
        os.waitpid(pid, 0)
    print(f"report: {len(report.encode())} bytes of JSON")
    print(f"spool write (in process): median {statistics.median(writes) * 1000:.2f} ms, {len(synced) / runs:g} fsyncs")
    print(f"starting the shipper (posix_spawn, in process): median {statistics.median(spawns) * 1000:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or shutil.which("clientcheck")
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("run it as root: a machine-level check is root's", file=sys.stderr)
        return 2
    command = [script, "check", "--format", "json"]
    with tempfile.TemporaryDirectory(prefix="clientcheck-ship-bench-") as base:
        plain = {**os.environ, "CLIENTCHECK_STATE_DIR": os.path.join(base, "plain")}
        enrolled = {**os.environ, "CLIENTCHECK_STATE_DIR": enrolled_folder(base)}
        for env in (plain, enrolled):  # warm the caches once, untimed
            run_once(command, env)
        timed: dict[str, list[tuple[float, float]]] = {"no collector": [], "enrolled, spooling": []}
        for _ in range(args.runs):
            timed["no collector"].append(run_once(command, plain))
            timed["enrolled, spooling"].append(run_once(command, enrolled))
        spool = os.path.join(enrolled["CLIENTCHECK_STATE_DIR"], "collector", "spool")
        print(f"python {sys.version.split()[0]} on {os.uname().sysname}, {os.cpu_count()} cores, {args.runs} runs each")
        print(f"{'check --format json':<24} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8}")
        for name, figures in timed.items():
            walls = [wall for wall, _ in figures]
            cpus = [cpu for _, cpu in figures]
            p90 = statistics.quantiles(walls, n=10)[-1]
            print(
                f"{name:<24} {statistics.median(walls) * 1000:>10.1f} {p90 * 1000:>8.1f} "
                f"{statistics.median(cpus) * 1000:>8.1f}"
            )
        print(f"spooled reports after the runs: {len(os.listdir(spool))} (unchanged findings replace each other)")
        parts(script, base, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
