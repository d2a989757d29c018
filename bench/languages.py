"""Benchmark: what a language costs. Whole ``clientcheck check`` runs (offline, bundled rules; the text report
and ``--format json``), in English and in German, against a bare ``python -c pass``, interleaved so that all
see the same conditions; with ``--before SCRIPT``, the same runs of another installation (the previous
version, from its own wheel) beside them.

Prints medians, 90th percentiles and ratios: German / English (the goal: at most 1.10), and this version /
the one before (the goal: no slower). Not a pass/fail test.

    python bench/languages.py [--runs 31] [--before /tmp/before/bin/clientcheck] [-- extra clientcheck arguments]

Run it from an environment where clientcheck is installed from the wheel (``pip install .``, not editable),
as bench/startup.py is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def run_once(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    os.wait4(process.pid, 0)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--before", help="another installation's clientcheck script, measured beside this one")
    parser.add_argument("extra", nargs="*", help="extra clientcheck arguments (after --)")
    args = parser.parse_args()

    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or shutil.which("clientcheck")
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    # The environment of a login on an English desktop; German is asked for with --lang, as a setting would.
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    commands: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"]}
    installations = [("", script)] + ([("before: ", args.before)] if args.before else [])
    for label, program in installations:
        for fmt in ("text", "json"):
            for language in ("en", "de"):
                name = f"{label}check --format {fmt}" + (" --lang de" if language == "de" else "")
                commands[name] = [program, "check", "--format", fmt, *(["--lang", "de"] if language == "de" else [])]
                commands[name] += args.extra
    for command in commands.values():  # warm the page cache once, untimed
        run_once(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(run_once(command, env))

    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(f"runs: {args.runs} of each, interleaved")
    print(f"{'command':<48} {'median ms':>10} {'p90 ms':>8}")
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<48} {medians[name] * 1000:>10.1f} {p90 * 1000:>8.1f}")
    base = medians["python -c pass"]
    print()
    for label, _program in installations:
        for fmt in ("text", "json"):
            english, german = medians[f"{label}check --format {fmt}"], medians[f"{label}check --format {fmt} --lang de"]
            print(
                f"{label}{fmt}: English {english / base:.2f}x python -c pass, German {german / base:.2f}x;"
                f" German / English {german / english:.3f}   goal: <= 1.10"
            )
    if args.before:
        for fmt in ("text", "json"):
            for suffix in ("", " --lang de"):
                now, then = medians[f"check --format {fmt}{suffix}"], medians[f"before: check --format {fmt}{suffix}"]
                print(f"this / before, check --format {fmt}{suffix}: {now / then:.3f}   goal: <= 1.0 (no slower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
