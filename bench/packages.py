"""Benchmark: what each installed package costs a whole ``clientcheck check --format json`` run.

Generates Debian ``--root`` trees of N dpkg packages (the debian-12-desktop fixture's browsers and PDF
viewers among N real-looking stanzas, see tests/dpkg_machines.py), runs whole processes on each, interleaved,
and prints per N the median wall and CPU time (user and system, from ``wait4``: on a busy machine it varies
less than wall time) and the child's own peak RSS, then the cost per 1,000 packages (the slope of a
least-squares line through the medians). Not a pass/fail test: the goals (flat, and at most
14 MiB peak RSS at 15,000 packages) are read off its output and recorded in docs/verification.md.

    python bench/packages.py [--counts 1000,5000,15000,30000] [--runs 11] [-- extra clientcheck arguments]

Each run is measured by _measure.py's helper (the child's own peak RSS, from ``wait4``); the helper's
floor is printed: figures at or below it say nothing. ``measure`` is also what bench/speed.py calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _measure import Series, floor_kib, installed_script, interleaved  # bench/ is sys.path[0]
from dpkg_machines import STATUS, debian_machine  # found through the line above


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


class Figures:
    """What ``measure`` found, per package count: the runs, the status file's size, what the report said."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.series: dict[int, Series] = {}
        self.sizes: dict[int, int] = {}
        self.verdicts: dict[int, str] = {}
        self.floor_kib = 0

    def per_thousand(self) -> tuple[float, float, float]:
        """The cost per 1,000 packages: wall ms, CPU ms and peak RSS MiB (least-squares slopes)."""
        return (
            slope([(count / 1000, self.series[count].median * 1000) for count in self.counts]),
            slope([(count / 1000, self.series[count].cpu * 1000) for count in self.counts]),
            slope([(count / 1000, self.series[count].peak_kib / 1024) for count in self.counts]),
        )


def measure(script: str, counts: list[int], runs: int, extra: list[str]) -> Figures:
    """Whole runs of ``script check --format json`` on generated Debian trees of each count, interleaved."""
    figures = Figures(sorted(set(counts)))
    with tempfile.TemporaryDirectory(prefix="clientcheck-bench-") as scratch:
        roots = {count: debian_machine(Path(scratch) / str(count), count) for count in figures.counts}
        for count, root in roots.items():
            command = [script, "check", "--format", "json", "--root", str(root), "--platform", "linux", *extra]
            figures.series[count] = Series(f"{count} packages", command)
            figures.verdicts[count] = judged(script, root, extra)
            figures.sizes[count] = (root / STATUS).stat().st_size
        figures.floor_kib = floor_kib()
        interleaved(list(figures.series.values()), runs)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000,15000,30000", help="package counts, comma-separated")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("extra", nargs="*", help="extra clientcheck arguments (after --)")
    args = parser.parse_args()

    script = installed_script()
    if script is None:
        print("clientcheck is not installed in this environment", file=sys.stderr)
        return 2
    figures = measure(script, [int(count) for count in args.counts.split(",")], args.runs, args.extra)

    print(f"python {sys.version.split()[0]} on {os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores")
    print(
        f"runs: {args.runs} per count, interleaved; helper floor (peak RSS of a child that runs /bin/true): "
        f"{figures.floor_kib / 1024:.1f} MiB"
    )
    print(
        f"{'packages':>9} {'status MB':>10} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'peak RSS MiB':>13}"
        "  exit  report"
    )
    for count in figures.counts:
        series = figures.series[count]
        print(
            f"{count:>9} {figures.sizes[count] / 1e6:>10.1f} {series.median * 1000:>10.1f} "
            f"{series.p90 * 1000:>8.1f} {series.cpu * 1000:>8.1f} {series.peak_kib / 1024:>13.1f}"
            f"  {series.statuses:>4}  {figures.verdicts[count]}"
        )
    if len(figures.counts) > 1:
        wall, cpu_time, memory = figures.per_thousand()
        print(
            f"cost per 1,000 packages: {wall:.3f} ms wall, {cpu_time:.3f} ms CPU, {memory:.3f} MiB peak RSS"
            "   goal: flat"
        )
    if 15000 in figures.series:
        print(f"peak RSS at 15,000 packages: {figures.series[15000].peak_kib / 1024:.1f} MiB   goal: <= 14 MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
