"""Benchmark: one whole ``clientcheck check --format json`` run, offline with the bundled rules, against a
bare ``python -c pass`` on the same machine, interleaved so both see the same conditions.

Prints medians, the ratio, and each process's own peak RSS (see _measure.py). Not a pass/fail test: the
goals (<= 3x a bare interpreter, <= 30 MiB peak RSS) are read off its output and recorded in
docs/verification.md. The bare interpreter is the one the console script starts, with the same flags.

    python bench/startup.py [--runs 31] [-- extra clientcheck arguments]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from _measure import Series, floor_kib, installed_script, interleaved, shebang, table  # bench/ is sys.path[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("extra", nargs="*", help="extra clientcheck arguments (after --)")
    args = parser.parse_args()

    script = installed_script()
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    python, flags = shebang(script) or (sys.executable, [])
    baseline = Series(" ".join(["python", *flags, "-c", "pass"]), [python, *flags, "-c", "pass"])
    agent = Series(
        " ".join(["clientcheck", "check", "--format", "json", *args.extra]),
        [script, "check", "--format", "json", *args.extra],
    )

    found = subprocess.run([script, "inventory", "--format", "json"], capture_output=True, text=True, check=True)
    installed = found.stdout.count('"product"')
    interleaved([baseline, agent], args.runs)

    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(
        f"browsers and PDF viewers found: {installed}; runs: {args.runs} each, interleaved; "
        f"exit statuses {agent.statuses}"
    )
    print(f"helper floor (peak RSS of a child that runs /bin/true): {floor_kib() / 1024:.1f} MiB")
    print("\n".join(table([baseline, agent])))
    print(f"ratio (median clientcheck / median python -c pass): {agent.median / baseline.median:.2f}x   goal: <= 3x")
    print(f"peak RSS of clientcheck: {agent.peak_kib / 1024:.1f} MiB   goal: <= 30 MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
