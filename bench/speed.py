"""Benchmark: the figures of issue 14 in one run, each with its goal.

- ``check --format json`` / floor, ``check`` / ``python -c pass``, ``login --force`` / ``python -c pass``:
  bench/floor.py's comparison (the floor script generated from a trace of this machine), all with the
  console script's interpreter and flags;
- a check with a collector configured, and a check in German (``--lang de``), beside the default check (no
  collector, English): each at most 1.10x it;
- the cost per 1,000 dpkg packages and the peak RSS at 15,000: bench/packages.py's generated Debian trees;
  and how the check reads the largest tree's status file (traced): how much of it, and the most at once.

The commands of each comparison run interleaved, medians of ``--runs`` runs each (wall time; CPU time beside
it, steadier on a machine shared with other work), each process's own peak RSS (_measure.py).

    python bench/speed.py [--runs 31] [--package-runs 11] [--counts 1000,5000,15000,30000] [--flags='-I -S']

The collector-configured check: ``report.server`` set to ``http://127.0.0.1:9`` (nothing listens there) and
``report.enroll_secret`` to a secret file, in a ``config.toml`` of a throw-away ``XDG_CONFIG_HOME``, with a
state folder of its own. Such a check (as root, the machine-level run; else the user's, whose own settings
they are) spools its report (one atomic write, two fsyncs) and starts the detached shipper: the first one
finds nothing listening and waits to try again, those after it find it at work and end at once. After each
such run the benchmark waits, untimed, until only the first is left, so that none runs beside the next timed
command, and it ends every process whose environment names that state folder when it is done (by their ids;
it prints how many). Linux only (strace,
/proc).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from _measure import Series, installed_script, interleaved, table  # bench/ is sys.path[0]
from floor import Comparison, interpreter_of, throwaway_environment, trace
from packages import measure

ENOUGH = 1.10  # the most a collector or another language may cost over the default check


def collector_environment(env: dict[str, str], folder: str) -> dict[str, str]:
    """``env`` with a configuration that names a collector nothing answers at, and a state folder of its own."""
    config = os.path.join(folder, "collector-config")
    os.makedirs(os.path.join(config, "clientcheck"), mode=0o700)
    secret = os.path.join(folder, "enroll-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
        file.write("bench-enroll-secret-not-a-real-one\n")
    with open(os.path.join(config, "clientcheck", "config.toml"), "w", encoding="utf-8") as file:
        file.write(f'[report]\nserver = "http://127.0.0.1:9"\nenroll_secret = "{secret}"\n')
    return {**env, "XDG_CONFIG_HOME": config, "CLIENTCHECK_STATE_DIR": os.path.join(folder, "collector-state")}


def processes_naming(marker: str) -> list[int]:
    """The processes whose environment holds ``marker`` (``NAME=value``): the shippers this benchmark's
    checks started."""
    wanted = marker.encode() + b"\0"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as file:
                if wanted in file.read() + b"\0":
                    found.append(int(name))
        except OSError:
            continue
    return found


def settled(marker: str, waiting: int, patience: float = 5.0) -> None:
    """Wait until no more than ``waiting`` processes name ``marker``: a shipper a check started and that
    finds another one at work ends at once, and must not run beside the next timed command."""
    deadline = time.monotonic() + patience
    while len(processes_naming(marker)) > waiting and time.monotonic() < deadline:
        time.sleep(0.005)


def end_processes(marker: str) -> int:
    """End the processes ``processes_naming(marker)`` finds, by their ids: SIGTERM, then SIGKILL."""
    pids = processes_naming(marker)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and processes_naming(marker):
        time.sleep(0.05)
    for pid in processes_naming(marker):
        os.kill(pid, signal.SIGKILL)
    return len(pids)


def status_reading(script: str, count: int, env: dict[str, str], folder: str) -> tuple[int, int, int]:
    """How a check reads the dpkg status file of a generated tree of ``count`` packages (traced): the file's
    size, the bytes read of it, and the most read in one system call."""
    from dpkg_machines import STATUS, debian_machine  # tests/, which importing packages put on the path

    root = debian_machine(Path(folder) / f"dpkg-{count}", count)
    status = str(root / STATUS)
    touched = trace([script, "check", "--format", "json", "--root", str(root), "--platform", "linux"], env, folder)
    found = [path for path in touched.reads if os.path.normpath(path) == status]
    read = sum(end - start for path in found for start, end in touched.reads[path])
    largest = max((touched.largest.get(path, 0) for path in found), default=0)
    return os.path.getsize(status), read, largest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--package-runs", type=int, default=11)
    parser.add_argument("--counts", default="1000,5000,15000,30000", help="dpkg package counts, comma-separated")
    parser.add_argument("--flags", help="the interpreter's flags for every run (default: the script's #! line's)")
    args = parser.parse_args()
    script = installed_script()
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    python, flags = interpreter_of(script, args.flags)
    counts = sorted({int(count) for count in args.counts.split(",")} | {15000})

    with tempfile.TemporaryDirectory(prefix="clientcheck-speed-") as folder:
        env = throwaway_environment(os.path.join(folder, "home"))
        comparison = Comparison(script, python, flags, env, folder)
        shipping = collector_environment(env, folder)
        marker = f"CLIENTCHECK_STATE_DIR={shipping['CLIENTCHECK_STATE_DIR']}"
        # The first check starts the shipper that keeps trying (nothing listens); those started after it end
        # at once, and are waited for, untimed, after each run.
        collector = Series(
            "check --format json, collector set",
            [script, "check", "--format", "json"],
            shipping,
            after=lambda: settled(marker, waiting=1),
        )
        german = Series("check --format json --lang de", [script, "check", "--format", "json", "--lang", "de"], env)
        try:
            interleaved([*comparison.series(), collector, german], args.runs)
        finally:
            ended = end_processes(marker)
        spooled = os.listdir(os.path.join(shipping["CLIENTCHECK_STATE_DIR"], "collector", "spool"))
        size, read, largest = status_reading(script, max(counts), env, folder)
    packages = measure(script, counts, args.package_runs, [])

    check = comparison.check
    wall, cpu, _memory = packages.per_thousand()
    peak = packages.series[15000].peak_kib / 1024
    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(f"interpreter {python} {' '.join(flags) or '(no flags)'}; {args.runs} runs each, interleaved")
    print(f"check touched: {comparison.touched.summary()}")
    print("\n".join(table([*comparison.series(), collector, german])))
    print(f"collector set: {len(spooled)} report(s) left in the spool; {ended} shipper process(es) ended afterwards")
    print(f"packages: {', '.join(map(str, counts))}, {args.package_runs} runs each, interleaved:")
    print("\n".join("  " + line for line in table([packages.series[count] for count in counts])))
    print()
    rows = [
        ("check --format json / floor", f"{check.median / comparison.floor.median:.2f}x", "<= 1.5x"),
        ("check --format json / python -c pass", f"{check.median / comparison.bare.median:.2f}x", "<= 2.1x"),
        ("login --force / python -c pass", f"{comparison.login.median / comparison.bare.median:.2f}x", "<= 2.5x"),
        ("cost per 1,000 dpkg packages", f"{wall:.3f} ms ({cpu:.3f} ms CPU)", "flat"),
        (
            f"dpkg status read at {max(counts):,} packages",
            f"{read / 2**20:.1f} of {size / 2**20:.1f} MiB, <= {largest / 2**10:.0f} KiB a call",
            "no whole-file read",
        ),
        ("peak RSS at 15,000 packages", f"{peak:.1f} MiB", "<= 14 MiB"),
        ("check, collector set / default check", f"{collector.median / check.median:.2f}x", f"<= {ENOUGH:.2f}x"),
        ("check --lang de / default check", f"{german.median / check.median:.2f}x", f"<= {ENOUGH:.2f}x"),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'figure':<{width}}  {'measured':<24}  goal")
    for name, measured, goal in rows:
        print(f"{name:<{width}}  {measured:<24}  {goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
