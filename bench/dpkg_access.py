"""Benchmark: three ways to look packages up in a large dpkg ``status`` file, side by side.

- ``whole``: read the file into memory, then search the bytes (what clientcheck did before it read
  package databases in windows);
- ``mmap``: map the file and search the mapping (only the pages touched count in RSS);
- ``pread``: search it through ``FileWindow``, positioned reads of small windows (what clientcheck does).

All three run the same search (``clientcheck.inspect.formats.dpkg.find_package``: a binary search, as dpkg
writes the file sorted), on generated status files of N real-looking stanzas (tests/dpkg_machines.py). Each
measurement is a fresh process that looks up the five packages a Debian desktop's browsers and PDF viewers
come from (``found``), or one package the file does not have (``absent``: the search then scans the whole
file, as it must in case the file is not sorted). Printed: the median time of the look-ups (opening and
importing included, as a run pays them) and how much they raised the process's peak RSS (``VmHWM``).

    python bench/dpkg_access.py [--counts 1000,15000,30000] [--runs 21]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dpkg_machines import grown_status  # found through the line above

FOUND = ["chromium", "evince", "firefox-esr", "google-chrome-stable", "okular"]
ABSENT = ["no-such-package"]

# One measurement, in a fresh process: prints {"us": look-up time, "kib": peak RSS added}.
PROBE = """
import json, os, sys, time
from clientcheck.inspect.formats import dpkg
from clientcheck.inspect import fsroot, packages

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

method, path, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
before = peak()
start = time.perf_counter()
if method == "whole":
    with open(path, "rb") as stream:
        status = stream.read()
elif method == "mmap":
    import mmap
    descriptor = os.open(path, os.O_RDONLY)
    status = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ)
else:
    status = packages.FileWindow(fsroot.Root("/").open_file(path))
found = [dpkg.find_package(status, name) for name in names]
elapsed = time.perf_counter() - start
assert all(package is not None for package in found) or names == ["no-such-package"], found
print(json.dumps({"us": elapsed * 1e6, "kib": peak() - before}))
"""


def measure(method: str, path: Path, names: list[str]) -> tuple[float, int]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, method, str(path), ",".join(names)], capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout)
    return result["us"], result["kib"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,15000,30000", help="package counts, comma-separated")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    counts = sorted({int(count) for count in args.counts.split(",")})
    methods = ("whole", "mmap", "pread")
    lookups = {"found": FOUND, "absent": ABSENT}
    with tempfile.TemporaryDirectory(prefix="clientcheck-bench-") as scratch:
        files = {}
        for count in counts:
            files[count] = Path(scratch) / f"status-{count}"
            files[count].write_bytes(grown_status(count))
        results: dict[tuple[str, int, str], list[tuple[float, int]]] = {}
        for _ in range(args.runs):  # interleaved, so that every method sees the same conditions
            for count, path in files.items():
                for method in methods:
                    for kind, names in lookups.items():
                        results.setdefault((kind, count, method), []).append(measure(method, path, names))
        sizes = {count: path.stat().st_size for count, path in files.items()}
    print(f"python {sys.version.split()[0]}, {args.runs} processes per figure, medians")
    print(f"{'look-up':<8} {'packages':>9} {'MB':>6} " + " ".join(f"{m + ' ms':>10} {m + ' MiB':>10}" for m in methods))
    for kind in lookups:
        for count in counts:
            cells = []
            for method in methods:
                runs = results[(kind, count, method)]
                cells.append(f"{statistics.median(us for us, _ in runs) / 1000:>10.3f}")
                cells.append(f"{statistics.median(kib for _, kib in runs) / 1024:>10.2f}")
            print(f"{kind:<8} {count:>9} {sizes[count] / 1e6:>6.1f} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
