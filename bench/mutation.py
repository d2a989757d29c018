"""Mutation testing of the verdict's core: how many small changes to ``version.py``, ``evaluate.py`` and
``rules/validate.py`` their own unit tests notice.

Each module is mutated by mutmut 3 (``pip install -e '.[mutation]'``) and tried against its own unit tests
only, so the figure says what those tests pin, not what the whole suite happens to touch; that also keeps
a run to minutes. Prints, per module, the mutants killed, those that survived, and the kill rate over all
mutants and over those not judged equivalent. The equivalent ones (no test could ever tell them from the
original) are listed, each with its reason, in ``bench/mutation-equivalent.txt``; a survivor not listed
there is a gap in the tests, and is printed with its diff.

    python bench/mutation.py [version evaluate validate] [--jobs 2] [--keep DIR]

Why a staging folder: mutmut names a mutant after its file's path and only knows the ``./``, ``src/``
and ``source/`` layouts, while this repository keeps the package in ``agent/`` (see the design). So the
package, the unit tests and the rule files are copied into ``DIR/<module>/`` in the ``src/`` layout, with
a generated ``pyproject.toml`` holding mutmut's settings; the work tree gets no ``mutants/`` folder or
cache. Not a pass/fail test: a run of all three takes about half an hour on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT = REPO / "bench" / "mutation-equivalent.txt"

# module -> (its file inside the package, its own unit tests)
MODULES = {
    "version": ("version.py", ["tests/unit/test_version.py"]),
    "evaluate": ("evaluate.py", ["tests/unit/test_evaluate.py"]),
    "validate": ("rules/validate.py", ["tests/unit/test_rules_validate.py", "tests/unit/test_rules_schema.py"]),
}

# mutmut's exit codes of a tried mutant (mutmut/stats.py).
KILLED = {1, 3, 37}
TIMEOUT = {-24, 24, 152, 255, 36}
SURVIVED = {0}
NO_TESTS = {5, 33}


def _stage(folder: Path, module: str) -> None:
    relative, tests = MODULES[module]
    shutil.copytree(REPO / "agent" / "clientcheck", folder / "src" / "clientcheck", ignore=_ignored)
    (folder / "tests").mkdir()
    shutil.copy2(REPO / "tests" / "conftest.py", folder / "tests" / "conftest.py")
    shutil.copytree(REPO / "tests" / "unit", folder / "tests" / "unit", ignore=_ignored)
    shutil.copytree(REPO / "rules", folder / "rules", ignore=_ignored)  # the tests read the shipped rule files

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    (folder / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src/clientcheck"]\n'
        f"only_mutate = {toml_list([f'src/clientcheck/{relative}'])}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        'also_copy = ["rules"]\n'
        "use_git_change_detection = false\n"
        "\n[tool.pytest.ini_options]\n"
        'testpaths = ["tests"]\n',
        encoding="utf-8",
    )


def _ignored(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name in ("__pycache__", ".hypothesis", ".pytest_cache")]


def _mutmut() -> str:
    found = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if found is None:
        sys.exit("mutmut is not installed here: pip install -e '.[mutation]'")
    return found


def _results(folder: Path, relative: str) -> dict[str, int | None]:
    meta = folder / "mutants" / "src" / "clientcheck" / (relative + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return codes


# Run in the staging folder by the interpreter mutmut runs in: the diff of each mutant named on standard
# input, as JSON. One process for all (``mutmut show`` for each took a second or more).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
path = sys.argv[1]
print(json.dumps({name: get_diff_for_mutant(name, path=path) for name in sys.stdin.read().split()}))
"""


def _diffs(folder: Path, relative: str, mutants: list[str]) -> dict[str, tuple[str, str]]:
    """Each mutant's changed lines, removed and added, each joined and stripped of blanks."""
    if not mutants:
        return {}
    python = str(Path(_mutmut()).with_name("python"))
    shown = subprocess.run(
        [python, "-c", _DIFFS, f"src/clientcheck/{relative}"],
        cwd=folder,
        input="\n".join(mutants),
        capture_output=True,
        text=True,
        check=True,
        env=_environment(),
    ).stdout
    changed = {}
    for name, diff in json.loads(shown).items():
        lines = diff.splitlines()
        removed = " ".join(line[1:].strip() for line in lines if line[:1] == "-" and line[:3] != "---")
        added = " ".join(line[1:].strip() for line in lines if line[:1] == "+" and line[:3] != "+++")
        changed[name] = (removed, added)
    return changed


def _function(mutant: str) -> str:
    """``clientcheck.version.x__scan__mutmut_12`` -> ``clientcheck.version.x__scan``"""
    return mutant.partition("__mutmut_")[0]


def read_equivalent(path: Path) -> dict[tuple[str, str], str]:
    """The notes: (function, line as mutated) -> reason. Keyed by what the mutant changes, not by its
    number, so that an edit elsewhere in the module (which renumbers mutants) keeps them valid."""
    notes: dict[tuple[str, str], str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        # The mutated line may hold " | " itself: the function is what comes before the first, the reason
        # what follows the last.
        function, _, rest = line.partition(" | ")
        mutated, _, reason = rest.rpartition(" | ")
        if not (function.strip() and mutated.strip() and reason.strip()):
            sys.exit(f"{path}:{number}: expected 'function | line as mutated | reason'")
        notes[(function.strip(), mutated.strip())] = reason.strip()
    return notes


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLIENTCHECK_")}
    env["HYPOTHESIS_PROFILE"] = "mutation"  # the same inputs for every mutant (tests/conftest.py)
    return env


def run_module(module: str, folder: Path, jobs: int, notes: dict[tuple[str, str], str]) -> dict[str, Any]:
    relative, _ = MODULES[module]
    _stage(folder, module)
    print(f"== {module}: mutating agent/clientcheck/{relative} in {folder}", flush=True)
    proc = subprocess.run(
        [_mutmut(), "run", "--max-children", str(jobs)],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_environment(),
        check=False,
    )
    (folder / "mutmut-run.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        print(proc.stdout[-3000:] + proc.stderr[-3000:])
        sys.exit(f"mutmut run failed for {module} (exit {proc.returncode}); see {folder / 'mutmut-run.log'}")
    codes = _results(folder, relative)
    killed = sum(1 for code in codes.values() if code in KILLED | TIMEOUT)
    survivors = sorted(name for name, code in codes.items() if code in SURVIVED)
    untested = sorted(name for name, code in codes.items() if code in NO_TESTS)
    other = sorted(name for name, code in codes.items() if code not in KILLED | TIMEOUT | SURVIVED | NO_TESTS)
    equivalent: list[tuple[str, str]] = []
    equivalent_keys: list[tuple[str, str]] = []
    gaps: list[tuple[str, str, str]] = []
    changed = _diffs(folder, relative, survivors + untested)
    for name in survivors + untested:
        removed, added = changed[name]
        reason = notes.get((_function(name), added))
        if reason is not None:
            equivalent.append((name, reason))
            equivalent_keys.append((name, added))
        else:
            gaps.append((name, removed, added))
    not_run = [(name, reason) for name, reason in equivalent if reason.startswith("not run:")]
    equivalent = [(name, reason) for name, reason in equivalent if not reason.startswith("not run:")]
    total = len(codes)
    judged = total - len(equivalent) - len(not_run)
    return {
        "module": module,
        "total": total,
        "killed": killed,
        "survived": len(survivors),
        "no_tests": len(untested),
        "other": other,
        "equivalent": equivalent,
        "not_run": not_run,
        "equivalent_keys": equivalent_keys,
        "gaps": gaps,
        "rate": killed / total if total else 1.0,
        "rate_not_equivalent": killed / judged if judged else 1.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tried at once")
    parser.add_argument("--keep", type=Path, help="stage in this (new) folder and keep it, to look at mutants")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    unknown = set(args.modules) - set(MODULES)
    if unknown:
        parser.error(f"unknown module {', '.join(sorted(unknown))}: choose from {', '.join(MODULES)}")

    notes = read_equivalent(EQUIVALENT)
    base = args.keep or Path(tempfile.mkdtemp(prefix="clientcheck-mutation-"))
    base.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for module in args.modules or list(MODULES):
            folder = base / module
            if folder.exists():
                sys.exit(f"{folder} exists: give --keep a new folder")
            results.append(run_module(module, folder, args.jobs, notes))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print()
    print(
        f"{'module':<10} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} {'equivalent':>10}"
        f" {'not run':>7} {'kill rate':>9} {'of the rest':>11}"
    )
    for result in results:
        print(
            f"{result['module']:<10} {result['total']:>7} {result['killed']:>6} {result['survived']:>8}"
            f" {result['no_tests']:>8} {len(result['equivalent']):>10} {len(result['not_run']):>7}"
            f" {result['rate']:>9.1%} {result['rate_not_equivalent']:>11.1%}"
        )
    print("(the last column leaves out the mutants bench/mutation-equivalent.txt lists as equivalent or not run)")
    for result in results:
        if result["other"]:
            print(
                f"\n{result['module']}: mutants neither killed nor surviving (skipped, suspicious…): {result['other']}"
            )
        for name, removed, added in result["gaps"]:
            print(f"\nsurvived, not listed as equivalent: {name}\n  - {removed}\n  + {added}")
        prefix = "clientcheck." + MODULES[result["module"]][0].removesuffix(".py").replace("/", ".") + "."
        used = {(_function(name), added) for name, added in result["equivalent_keys"]}
        for function, mutated in sorted(key for key in notes if key[0].startswith(prefix) and key not in used):
            print(
                f"\nlisted as equivalent, but no such mutant survived (killed, or the code changed):"
                f" {function} | {mutated}"
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
