"""The Debian package made by packaging/debian/build.py.

The pure parts (versions, the control file, dependencies, md5sums, copyright, man page) are checked against
dpkg's own tools where they exist. Then, for real: the .deb is built from this checkout, inspected, checked
with lintian, and installed with dpkg, run (offline, as root and as nobody), reinstalled and purged in a
throw-away root (tests/throwaway_root.py), never on this machine's own dpkg database: the purge must leave
that root as it was, and keep what the package did not make.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import clientcheck
from clientcheck.cli import main
from conftest import DEFAULT_RULES, download_environment, require_tool
from throwaway_root import ThrowawayRoot

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "packaging" / "debian"
BUILD_SCRIPT = HERE / "build.py"
TARGET_PYTHON = "/usr/bin/python3"


def _load_build_script():
    spec = importlib.util.spec_from_file_location("clientcheck_debian_build", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_script()


def _control_fields(text: str) -> dict[str, str]:
    """A control paragraph as dpkg reads it: continuation lines start with a space."""
    fields: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith(" "):
            fields[name] += "\n" + line
        else:
            name, value = line.split(":", 1)
            assert name not in fields, f"field {name} twice"
            fields[name] = value.strip()
    return fields


# --- versions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pep440", "debian"),
    [
        ("0.1.0", "0.1.0"),
        ("1.2rc1", "1.2~rc1"),
        ("1.2a3", "1.2~a3"),
        ("1.2.dev4", "1.2~~dev4"),
        ("1.2b1.dev2", "1.2~b1~dev2"),
        ("1.2.post1", "1.2+post1"),
        ("1.2.post1.dev3", "1.2+post1~dev3"),
        ("1.2+deb.1", "1.2+0deb.1"),
        ("0.1.1.dev3+g1234abc", "0.1.1~~dev3+0g1234abc"),
        ("2!1.0", "2:1.0"),
    ],
)
def test_debian_version(pep440, debian):
    assert build.debian_version(pep440) == debian


def test_debian_versions_sort_as_pep440_says():
    """dpkg itself must order the converted versions the way PEP 440 orders the originals."""
    from packaging.version import Version

    dpkg = require_tool("dpkg")
    versions = ["1.0.dev1", "1.0.dev1+g12ab", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0"]
    versions += ["1.0+local.1", "1.0+zz", "1.0.post1.dev1", "1.0.post1", "1.0.post1+abc", "1.0.post2"]
    versions += ["1.0.1", "1.10", "1!0.1"]
    assert sorted(versions, key=Version) == versions
    for lower, higher in itertools.pairwise(versions):
        a, b = build.debian_version(lower), build.debian_version(higher)
        proc = subprocess.run([dpkg, "--compare-versions", a, "lt", b], check=False)
        assert proc.returncode == 0, f"dpkg does not order {a} < {b} ({lower} < {higher})"


@pytest.mark.parametrize("bad", ["", "v1.0", "1.0-1", "1.0 beta", "1.0\nEssential: yes", "latest"])
def test_debian_version_refuses_what_is_not_a_normalised_version(bad):
    with pytest.raises(build.BuildError, match="not a normalised PEP 440 version"):
        build.debian_version(bad)


# --- control file ------------------------------------------------------------------------------------------

FIELDS = {
    "version": "0.1.0",
    "architecture": "amd64",
    "maintainer": "Ops Team <ops@example.org>",
    "installed_size": "19548",
    "depends": "python3 (>= 3.11~), python3 (<< 3.12), libc6 (>= 2.34)",
}


def _template() -> str:
    return (HERE / "control.in").read_text(encoding="utf-8")


def test_control_file_has_every_field_policy_asks_for():
    fields = _control_fields(build.render_control(_template(), FIELDS))
    assert fields["Package"] == "clientcheck"
    assert fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64"
    assert fields["Maintainer"] == "Ops Team <ops@example.org>"
    assert fields["Installed-Size"] == "19548"
    assert fields["Depends"] == "python3 (>= 3.11~), python3 (<< 3.12), libc6 (>= 2.34)"
    assert fields["Section"] == "admin"
    assert fields["Priority"] == "optional"
    synopsis, *extended = fields["Description"].split("\n")
    assert synopsis and len(synopsis) <= 80 and not synopsis.endswith(".")
    assert extended and all(line.startswith(" ") and len(line) <= 80 for line in extended)
    assert " ." in extended  # a paragraph break, written as policy says


def test_control_file_is_read_back_by_dpkg_deb(tmp_path):
    """The real parser: dpkg-deb builds a package from the rendered control file and reads every field back."""
    dpkg_deb = require_tool("dpkg-deb")
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(build.render_control(_template(), FIELDS), encoding="utf-8")
    deb = tmp_path / "test.deb"
    subprocess.run([dpkg_deb, "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    for field, expected in [("Package", "clientcheck"), ("Depends", FIELDS["depends"]), ("Section", "admin")]:
        read = subprocess.run([dpkg_deb, "-f", str(deb), field], check=True, capture_output=True, text=True).stdout
        assert read.strip() == expected


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("bad", ["0.1.0\nEssential: yes", "x\r", "", "  "])
def test_control_values_cannot_add_fields_or_be_empty(field, bad):
    with pytest.raises(build.BuildError, match=f"control field {field}"):
        build.render_control(_template(), {**FIELDS, field: bad})


def test_control_template_needs_every_value():
    with pytest.raises(build.BuildError, match="needs a value for 'depends'"):
        build.render_control(_template(), {k: v for k, v in FIELDS.items() if k != "depends"})


# --- dependencies, sizes, sums, modes ----------------------------------------------------------------------


def test_version_specific_extension_pins_the_python_minor_version():
    names = ["_rust.abi3.so", "_cffi_backend.cpython-311-x86_64-linux-gnu.so"]
    assert build.python_depends(names, (3, 11)) == "python3 (>= 3.11~), python3 (<< 3.12)"


def test_abi3_extensions_only_set_a_floor():
    assert build.python_depends(["_psutil_linux.abi3.so", "_rust.abi3.so"], (3, 12)) == "python3 (>= 3.12~)"


def test_extension_for_another_python_is_refused():
    with pytest.raises(build.BuildError, match=r"built for another Python than 3\.11"):
        build.python_depends(["md.cpython-312-x86_64-linux-gnu.so"], (3, 11))


def _tree(root: Path) -> None:
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("x" * 5000)  # not installed: never counted
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(b"#!/bin/sh\n")
    (root / "usr" / "lib" / "pkg").mkdir(parents=True)
    for name, size in [("empty", 0), ("one", 1), ("exact", 1024), ("more", 1025)]:
        (root / "usr" / "lib" / "pkg" / name).write_bytes(b"\0" * size)
    (root / "usr" / "lib" / "pkg" / "link").symlink_to("one")


def test_installed_size_counts_as_dpkg_gencontrol(tmp_path):
    _tree(tmp_path)
    # files: tool 1 + empty 0 + one 1 + exact 1 + more 2; symlink 1; folders usr, bin, lib, pkg: 4.
    assert build.installed_size_kib(tmp_path) == 5 + 1 + 4


def test_md5sums_are_what_md5sum_checks(tmp_path):
    md5sum = require_tool("md5sum")
    _tree(tmp_path)
    sums = build.md5sums(tmp_path)
    listed = [line.split("  ", 1)[1] for line in sums.splitlines()]
    assert listed == sorted(listed)
    assert "usr/bin/tool" in listed and "usr/lib/pkg/link" not in listed
    assert not any(name.startswith("DEBIAN") for name in listed)
    proc = subprocess.run([md5sum, "--check", "--strict"], input=sums, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_modes_are_debian_modes(tmp_path):
    _tree(tmp_path)
    os.chmod(tmp_path / "usr" / "lib" / "pkg" / "one", 0o700)
    os.chmod(tmp_path / "usr" / "lib", 0o700)
    build.normalise_modes(tmp_path, ["/usr/bin/tool"])
    assert (tmp_path / "usr" / "bin" / "tool").stat().st_mode & 0o7777 == 0o755
    assert (tmp_path / "usr" / "lib" / "pkg" / "one").stat().st_mode & 0o7777 == 0o644
    assert (tmp_path / "usr" / "lib").stat().st_mode & 0o7777 == 0o755


# --- documents ---------------------------------------------------------------------------------------------


def _copy_dist_info(name: str, target: Path) -> None:
    """The real .dist-info folder of a distribution installed with the tests (its METADATA, RECORD, licenses)."""
    from importlib.metadata import distribution

    files = distribution(name).files or []
    dist_info = next(Path(str(f.locate())).parent for f in files if f.name == "METADATA")
    shutil.copytree(dist_info, target / dist_info.name)


def test_copyright_names_every_bundled_distribution_and_license(tmp_path):
    for name in ("requests", "cryptography", "psutil", "jeepney"):
        _copy_dist_info(name, tmp_path)
    template = (HERE / "copyright.in").read_text(encoding="utf-8")
    text = build.render_copyright(template, tmp_path, "/usr/lib/clientcheck")
    paragraphs = [_control_fields(p) for p in text.strip().split("\n\n")]
    assert paragraphs[0]["Format"].startswith("https://www.debian.org/doc/packaging-manuals/copyright-format/1.0")
    files = {p["Files"].split("\n")[0]: p for p in paragraphs if "Files" in p}
    assert files["*"]["License"] == "MIT"
    requests = next(p for p in files.values() if "usr/lib/clientcheck/requests/*" in p["Files"])
    assert requests["License"] == "Apache-2.0"
    cryptography = next(p for p in files.values() if "usr/lib/clientcheck/cryptography/*" in p["Files"])
    assert cryptography["License"] == "Apache-2.0 or BSD-3-Clause"
    jeepney = next(p for p in files.values() if "usr/lib/clientcheck/jeepney/*" in p["Files"])
    assert (jeepney["License"], jeepney["Copyright"]) == ("MIT", "Thomas Kluyver")
    for paragraph in files.values():
        assert paragraph["Copyright"].strip()
        for path in re.findall(r"(/usr/lib/clientcheck/\S+?)(?:,|$)", paragraph.get("Comment", "")):
            assert (tmp_path / path.removeprefix("/usr/lib/clientcheck/")).is_file(), path
    standalone = {p["License"].split("\n")[0] for p in paragraphs if "Files" not in p and "License" in p}
    used = {part for p in files.values() for part in re.split(r" or | and ", p["License"])}
    assert used <= standalone, f"licenses without their own paragraph: {used - standalone}"
    assert "/usr/share/common-licenses/Apache-2.0" in text


def test_man_page_commands_come_from_the_real_help(capsys):
    assert main(["--help"]) == 0
    commands = build.top_level_commands(capsys.readouterr().out)
    assert {"check", "inventory", "rules"} <= set(commands)


def test_man_page_is_clean_roff(tmp_path, capsys):
    man = require_tool("man")
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    texts = {}
    for command in build.top_level_commands(top):
        assert main([command, "--help"]) == 0
        texts[command] = capsys.readouterr().out
    texts["odd"] = ".TH fake\n'quoted\nback\\slash --option"
    page = build.render_manpage("0.1.0", 0, top, texts)
    assert "\n\\&.TH fake\n" in page and "\n\\&'quoted\n" in page and "back\\eslash \\-\\-option" in page
    path = tmp_path / "clientcheck.1"
    path.write_text(page, encoding="utf-8")
    proc = subprocess.run(
        [man, "--warnings", "-E", "UTF-8", "-l", "-P", "cat", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "120", "LC_ALL": "C.UTF-8"},
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    assert "clientcheck - check that the OS" in proc.stdout
    assert "--rules FILE|URL" in proc.stdout


def test_changelog_entry_is_a_native_package_entry():
    text = build.render_changelog("0.1.0~rc1", "clientcheck-0.1.0rc1-py3-none-any.whl", "A <a@example.org>", 0)
    first, *_rest, last = text.splitlines()
    assert first == "clientcheck (0.1.0~rc1) unstable; urgency=medium"
    assert last == " -- A <a@example.org>  Thu, 01 Jan 1970 00:00:00 +0000"
    assert all(len(line) <= 80 for line in text.splitlines())


def test_maintainer_scripts_are_valid_sh():
    for script in build.MAINTAINER_SCRIPTS:
        path = HERE / script
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
        proc = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


# --- for real: build, inspect, lint, install, run, purge ------------------------------------------------------


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    """The package, built from this checkout by the build script's own command line."""
    require_tool("dpkg-deb")
    if not os.access(TARGET_PYTHON, os.X_OK):
        pytest.fail(f"{TARGET_PYTHON} is missing: the package is built for Debian's python3")
    out = tmp_path_factory.mktemp("deb")
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env=download_environment(),  # pip fetches the bundled libraries as the caller set it up to
    )
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert path.parent == out and path.is_file()
    return path


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], check=True, capture_output=True, text=True).stdout


def _listing(deb: Path) -> list[tuple[str, str, str]]:
    """(mode, owner, path) of every entry in the package's data, as ``dpkg-deb -c`` (tar -tv) shows them."""
    entries = []
    for line in _dpkg_deb("-c", str(deb)).splitlines():
        mode, owner, *_size_date_time, path = line.split(None, 5)
        entries.append((mode, owner, path.split(" -> ")[0].removeprefix(".").rstrip("/") or "/"))
    return entries


def _target_python() -> tuple[int, int]:
    out = subprocess.run([TARGET_PYTHON, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True)
    major, minor = out.stdout.split()
    return int(major), int(minor)


@pytest.mark.system
def test_package_fields(deb):
    fields = _control_fields(_dpkg_deb("-f", str(deb)))
    major, minor = _target_python()
    architecture = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert fields["Package"] == "clientcheck"
    assert fields["Version"] == build.debian_version(clientcheck.__version__)
    assert fields["Architecture"] == architecture  # cryptography and psutil have compiled parts
    assert deb.name == f"clientcheck_{fields['Version']}_{architecture}.deb"
    depends = [part.strip() for part in fields["Depends"].split(",")]
    assert f"python3 (>= {major}.{minor}~)" in depends
    assert f"python3 (<< {major}.{minor + 1})" in depends  # cffi's backend is built for this CPython only
    if shutil.which("dpkg-shlibdeps"):
        assert any(part.startswith("libc6 (>= ") for part in depends)
    assert fields["Section"] == "admin" and fields["Priority"] == "optional"
    assert re.fullmatch(r".+ <[^@\s]+@[^@\s]+>", fields["Maintainer"])


@pytest.mark.system
def test_package_files_modes_and_sums(deb, tmp_path):
    entries = _listing(deb)
    paths = {path for _mode, _owner, path in entries}
    for mode, owner, path in entries:
        assert owner == "root/root", path
        assert "__pycache__" not in path and not path.endswith(".pyc"), f"byte-code shipped: {path}"
        expected = "drwxr-xr-x" if mode.startswith("d") else "-rwxr-xr-x" if path == "/usr/bin/clientcheck" else None
        assert mode == (expected or "-rw-r--r--"), f"{path}: {mode}"
    for wanted in (
        "/usr/bin/clientcheck",
        "/usr/lib/clientcheck/clientcheck/cli.py",
        "/usr/lib/clientcheck/clientcheck/data/catalog.json",
        "/usr/lib/clientcheck/clientcheck/data/default-rules.json",
        # The compiled translations, built from agent/locale/*.po by the wheel's build (never committed).
        "/usr/lib/clientcheck/clientcheck/data/locale/de.mo",
        "/usr/lib/clientcheck/clientcheck/data/locale/en.mo",
        "/usr/lib/clientcheck/requests/__init__.py",
        "/usr/lib/clientcheck/cryptography/__init__.py",
        "/usr/lib/clientcheck/psutil/__init__.py",
        "/usr/lib/clientcheck/jeepney/__init__.py",
        "/usr/share/doc/clientcheck/copyright",
        "/usr/share/doc/clientcheck/changelog.gz",
        "/usr/share/man/man1/clientcheck.1.gz",
    ):
        assert wanted in paths
    assert not any(path.startswith("/usr/lib/clientcheck/bin") for path in paths), "pip's console scripts shipped"
    assert not any(path.startswith("/usr/lib/clientcheck/platformdirs") for path in paths), "a test dependency shipped"
    assert not any(path.endswith("direct_url.json") for path in paths), "the build machine's wheel path shipped"

    raw = tmp_path / "raw"
    _dpkg_deb("--raw-extract", str(deb), str(raw))
    launcher = (raw / "usr/bin/clientcheck").read_text(encoding="utf-8")
    assert launcher.startswith("#!/usr/bin/python3 -IS\n") and 'sys.path.append("/usr/lib/clientcheck")' in launcher
    for script in build.MAINTAINER_SCRIPTS:
        assert (raw / "DEBIAN" / script).stat().st_mode & 0o777 == 0o755
    sums = (raw / "DEBIAN" / "md5sums").read_text(encoding="utf-8")
    proc = subprocess.run(
        ["md5sum", "--check", "--strict", "--quiet"], input=sums, cwd=raw, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    regular = {path for mode, _owner, path in entries if mode.startswith("-")}
    assert {"/" + line.split("  ", 1)[1] for line in sums.splitlines()} == regular
    installed_size = int(_control_fields(_dpkg_deb("-f", str(deb)))["Installed-Size"])
    apparent = sum((raw / path.lstrip("/")).stat().st_size for path in regular) // 1024
    assert apparent <= installed_size <= apparent + len(entries)


@pytest.mark.system
def test_package_carries_the_package_data_folder(deb):
    """Everything clientcheck reads at run time is in its data/ folder (the bundled rules, the catalog, the
    autostart templates, the schemas): the wheel, so the .deb, must carry every file of it."""
    data = REPO / "agent" / "clientcheck" / "data"
    paths = {path for _mode, _owner, path in _listing(deb)}
    files = sorted(path.relative_to(data).as_posix() for path in data.rglob("*") if path.is_file())
    assert {"default-rules.json", "autostart/clientcheck.desktop", "report.schema.json"} <= set(files)
    missing = [name for name in files if f"/usr/lib/clientcheck/clientcheck/data/{name}" not in paths]
    assert not missing, f"not in the package: {missing}"


@pytest.mark.system
def test_lintian_finds_no_error_or_warning(deb, tmp_path):
    """Every remaining finding is overridden, with its reason, in packaging/debian/lintian-overrides."""
    lintian = require_tool("lintian")
    proc = subprocess.run(
        [lintian, "--fail-on", "error,warning", "--info", "--pedantic", str(deb)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # lintian leaves a database file in its TMPDIR
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not re.search(r"^[EW]: ", proc.stdout, re.MULTILINE), proc.stdout


def _installed_status(root: ThrowawayRoot) -> str:
    proc = root.run(["dpkg-query", "--show", "--showformat", "${db:Status-Status}", "clientcheck"])
    return proc.stdout.strip() if proc.returncode == 0 else "not-installed"


def _offline(command: list[str]) -> list[str]:
    """The command in a network namespace of its own (no interface but a down loopback): truly offline."""
    return ["unshare", "--net", *command]


def _schema(name: str) -> Draft202012Validator:
    schema = json.loads((REPO / "agent" / "clientcheck" / "data" / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _install(root: ThrowawayRoot, deb: Path) -> list[str]:
    """The package installed in ``root``, which starts without one (a clientcheck this machine has is purged
    from the copy first), and the files dpkg lists for it."""
    if _installed_status(root) != "not-installed":
        purge = root.run(["dpkg", "--purge", "clientcheck"])
        assert purge.returncode == 0, purge.stdout + purge.stderr
    install = root.run(["dpkg", "--install", str(deb)])
    assert install.returncode == 0, install.stdout + install.stderr
    assert _installed_status(root) == "installed"
    return root.run(["dpkg-query", "--listfiles", "clientcheck"]).stdout.split()


def _purge(root: ThrowawayRoot) -> None:
    purge = root.run(["dpkg", "--purge", "clientcheck"])
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert "not empty so not removed" not in purge.stdout + purge.stderr, purge.stdout + purge.stderr
    assert _installed_status(root) == "not-installed"


def _check_installed(root: ThrowawayRoot, tmp_path: Path, package_files: list[str]) -> None:
    version = root.run(["/usr/bin/clientcheck", "--version"])
    assert (version.returncode, version.stdout) == (0, f"clientcheck {clientcheck.__version__}\n"), version.stderr

    report_run = root.run(_offline(["/usr/bin/clientcheck", "--format", "json"]))
    assert report_run.returncode in (0, 1), report_run.stderr
    report = json.loads(report_run.stdout)
    _schema("report.schema.json").validate(report)
    assert report["rules"]["source"] == "bundled"
    # In the person's language: the catalogs the package carries, read by the launcher's python3 -IS.
    german = root.run(_offline(["/usr/bin/clientcheck", "--lang", "de"]), env={"PATH": os.environ["PATH"]})
    assert german.returncode in (0, 1) and german.stderr == "", german.stderr
    assert "uf diesem Computer" in german.stdout.splitlines()[0]  # "Auf …", "… auf …": nothing owed, or owed

    # What the package finds is what this checkout finds on the same machine.
    here = root.run([sys.executable, "-m", "clientcheck", "inventory", "--format", "json"])
    assert here.returncode == 0, here.stderr
    mine = sorted((item["product"], item["version"]) for item in json.loads(here.stdout)["software"])
    assert sorted((item["product"], item["version"]) for item in report["software"]) == mine

    # Installed files must be usable by anyone: run as nobody (who cannot write the byte-code caches either),
    # with what runuser gives nobody: its own home, none of the test's folders, which nobody may not read.
    runuser = require_tool("runuser", "util-linux")
    as_nobody = root.run(
        [runuser, "-u", "nobody", "--", "/usr/bin/clientcheck", "inventory", "--format", "json"],
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
    )
    assert as_nobody.returncode == 0, as_nobody.stderr
    _schema("inventory.schema.json").validate(json.loads(as_nobody.stdout))

    # The private libraries, not Debian's or this venv's, and every compiled module loads after stripping.
    extensions = [path for path in package_files if path.endswith(".so")]
    modules = ["requests", "cryptography", "psutil", "jeepney", "clientcheck", "clientcheck.notify.dbus"]
    modules += [_module_name(path) for path in extensions]
    code = (
        "import importlib, sys; sys.path.append('/usr/lib/clientcheck')\n"
        "for name in sys.argv[1:]: print(name, importlib.import_module(name).__file__)"
    )
    loaded = root.run([TARGET_PYTHON, "-ISB", "-c", code, *modules])
    assert loaded.returncode == 0, loaded.stderr
    for line in loaded.stdout.splitlines():
        name, path = line.split(" ", 1)
        assert path.startswith("/usr/lib/clientcheck/"), f"{name} came from {path}"

    # cryptography (its Rust and cffi modules) through the launcher: make a key, sign, verify.
    rules = tmp_path / "rules.json"
    shutil.copyfile(DEFAULT_RULES, rules)
    for command in (
        ["rules", "keygen", "--public", str(tmp_path / "k.pub"), "--secret", str(tmp_path / "k.key")],
        ["rules", "sign", str(rules), "--secret", str(tmp_path / "k.key")],
        ["rules", "verify", str(rules), "--key", str(tmp_path / "k.pub")],
    ):
        proc = root.run(["/usr/bin/clientcheck", *command])
        assert proc.returncode == 0, f"{command}: {proc.stderr}"

    # requests and its helpers from the private folder, under -IS: fetch a rule file from this machine.
    fetched = _fetch_rules_from_a_local_server(root)
    assert fetched["source"].startswith("http://127.0.0.1:") and fetched["fallback_reason"] is None, fetched

    # The machine-level run with a collector set that cannot be reached: the report is spooled in
    # /var/lib/clientcheck/collector (of the throw-away root), with an agent id and the backoff's schedule,
    # which purge must then remove. Nothing is left running: an explicit ship does not wait.
    _spool_for_an_unreachable_collector(root, tmp_path)

    # The machine run's timer, as "clientcheck autostart install --system" writes it (into this root: no
    # systemd runs there to enable it), which purge must stop and remove; a unit of that name someone else
    # wrote is kept (test_purge_keeps_a_unit_it_did_not_write).
    _machine_timer_installed(root)

    # postinst byte-compiled every module (as root here; users then start from the caches).
    tag = root.run([TARGET_PYTHON, "-c", "import sys; print(sys.implementation.cache_tag)"]).stdout.strip()
    sources = [Path(path) for path in package_files if path.endswith(".py")]
    missing = [s for s in sources if not root.path(f"{s.parent}/__pycache__/{s.stem}.{tag}.pyc").is_file()]
    assert not missing, f"{len(missing)} of {len(sources)} modules not byte-compiled, e.g. {missing[:3]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _fetch_rules_from_a_local_server(root: ThrowawayRoot) -> dict:
    """As root, with no CLIENTCHECK_CACHE_DIR, the agent caches the rule file in /var/cache/clientcheck (of
    the throw-away root), which purge must then remove."""
    handler = functools.partial(_QuietHandler, directory=str(DEFAULT_RULES.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{DEFAULT_RULES.name}"
        env = {k: v for k, v in os.environ.items() if k not in ("CLIENTCHECK_CACHE_DIR", "CLIENTCHECK_STATE_DIR")}
        proc = root.run(["/usr/bin/clientcheck", "--rules", url, "--format", "json"], env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode in (0, 1), proc.stderr
    assert [path.name for path in root.path("/var/cache/clientcheck").glob("rules-*.cache")], "nothing was cached"
    return json.loads(proc.stdout)["rules"]


def _spool_for_an_unreachable_collector(root: ThrowawayRoot, tmp_path: Path) -> None:
    secret = tmp_path / "enroll-secret"
    secret.write_text("ccs_NotAnyServersSecretJustForTheTest\n")
    secret.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k not in ("CLIENTCHECK_CACHE_DIR", "CLIENTCHECK_STATE_DIR")}
    env.update(CLIENTCHECK_REPORT_SERVER="https://127.0.0.1:1", CLIENTCHECK_REPORT_ENROLL_SECRET=str(secret))
    proc = root.run(["/usr/bin/clientcheck", "ship", "--check"], env=env)
    assert proc.returncode == 6, proc.stdout + proc.stderr  # the collector could not be reached
    assert "cannot enroll at https://127.0.0.1:1" in proc.stderr
    collector = root.path("/var/lib/clientcheck/collector")
    assert [path.suffix for path in (collector / "spool").iterdir()] == [".json"]
    assert {"agent-id", "schedule.json", "ship.log"} <= {path.name for path in collector.iterdir()}
    assert collector.stat().st_mode & 0o777 == 0o700


MACHINE_UNITS = ("clientcheck-machine.service", "clientcheck-machine.timer")


def _machine_timer_installed(root: ThrowawayRoot) -> None:
    from clientcheck import autostart

    for folder in ("/etc/systemd/system", "/usr/lib/systemd/system"):
        root.path(folder).mkdir(parents=True, exist_ok=True)
    changes = autostart.install(
        "linux", system=True, env={}, command=["/usr/bin/clientcheck", "login"], root=str(root.path("/"))
    )
    assert {"systemd system timer enablement (the machine run)"} <= {change.kind for change in changes}
    units = root.path("/etc/systemd/system")
    assert all((units / name).is_file() for name in MACHINE_UNITS)
    assert os.readlink(units / "timers.target.wants" / "clientcheck-machine.timer") == "../clientcheck-machine.timer"


def _module_name(path: str) -> str:
    relative = path.removeprefix("/usr/lib/clientcheck/")
    return relative.split(".", 1)[0].replace("/", ".")


def _machine_state() -> dict[str, object]:
    """What installing on this machine itself would change: its dpkg database and the package's folders."""
    status = Path("/var/lib/dpkg/status").read_bytes()
    folders = ("/usr/lib/clientcheck", "/usr/bin/clientcheck", "/var/cache/clientcheck", "/usr/share/doc/clientcheck")
    return {"status": status, "present": [path for path in folders if os.path.lexists(path)]}


@pytest.mark.system
def test_install_run_and_purge_leave_the_root_as_it_was(deb, tmp_path, throwaway_root):
    """Installed, run (offline, as root and as nobody; a fetch as root fills /var/cache/clientcheck),
    reinstalled and purged in a throw-away root: the purge leaves nothing of the package behind there, and
    this machine itself never saw any of it."""
    require_tool("dpkg")
    machine = _machine_state()
    root = throwaway_root
    package_paths = [path for _mode, _owner, path in _listing(deb)]
    watched = [
        *package_paths,
        "/var/cache/clientcheck",
        "/var/lib/clientcheck",
        *(f"/etc/systemd/system/{name}" for name in MACHINE_UNITS),
        "/etc/systemd/system/timers.target.wants/clientcheck-machine.timer",
    ]
    before = {path for path in watched if os.path.lexists(root.path(path))}
    assert "/var/cache/clientcheck" not in before, "this machine has a /var/cache/clientcheck: see the next test"

    package_files = _install(root, deb)
    try:
        _check_installed(root, tmp_path, package_files)
        assert root.path("/var/cache/clientcheck").is_dir()
        # Installed again over itself: prerm upgrade removes the caches, postinst makes them anew.
        again = root.run(["dpkg", "--install", str(deb)])
        assert again.returncode == 0, again.stdout + again.stderr
        assert root.run(["/usr/bin/clientcheck", "--version"]).returncode == 0
    finally:
        _purge(root)

    after = {path for path in watched if os.path.lexists(root.path(path))}
    left = sorted(after - before)
    for folder in (
        "/usr/lib/clientcheck",
        "/usr/share/doc/clientcheck",
        "/var/cache/clientcheck",
        "/var/lib/clientcheck",
    ):
        if os.path.lexists(root.path(folder)):
            left += [os.path.join(d, f) for d, _dirs, files in os.walk(root.path(folder)) for f in files][:20]
    assert not left, f"left behind after purge: {left}"
    assert after == before
    assert _machine_state() == machine


@pytest.mark.system
def test_purge_keeps_a_cache_folder_it_did_not_make_and_what_is_in_it(deb, tmp_path, throwaway_root):
    """A /var/cache/clientcheck older than the package, holding a file of its own: the purge removes the
    agent's cached rules and a temporary file left by a cut-short write, and nothing else."""
    root = throwaway_root
    cache = root.path("/var/cache/clientcheck")
    cache.mkdir(mode=0o750)
    (cache / "notes.txt").write_text("the administrator's\n")
    (cache / "rules-from-elsewhere").write_text("not a cache entry\n")
    os.utime(cache / "notes.txt", (1_700_000_000, 1_700_000_000))
    _install(root, deb)
    try:
        fetched = _fetch_rules_from_a_local_server(root)
        assert fetched["fallback_reason"] is None, fetched
        [cached] = cache.glob("rules-*.cache")
        (cache / f".{cached.name}.0123456789ab.tmp").write_bytes(b"cut short")
    finally:
        _purge(root)
    assert sorted(path.name for path in cache.iterdir()) == ["notes.txt", "rules-from-elsewhere"]
    assert (cache / "notes.txt").read_text() == "the administrator's\n"
    assert (cache / "notes.txt").stat().st_mtime == 1_700_000_000
    # The run as root made the folder owner-only (a cache folder others could read or write is repaired, with
    # a note); the purge leaves that folder and what is not the agent's.
    assert cache.stat().st_mode & 0o777 == 0o700


def _postrm(root: ThrowawayRoot, action: str) -> None:
    proc = root.run(["sh", str(HERE / "postrm"), action])
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


def test_purge_keeps_a_unit_it_did_not_write(throwaway_root, tmp_path):
    # The machine timer's units go on purge only when clientcheck wrote them (their first line says so), and
    # the enablement link only when it names our timer; a link in a unit's place is never followed.
    root = throwaway_root
    units = root.path("/etc/systemd/system")
    (units / "timers.target.wants").mkdir(parents=True, exist_ok=True)
    (units / "clientcheck-machine.service").write_text("# the administrator's own\n[Service]\nExecStart=/bin/true\n")
    target = tmp_path / "elsewhere.timer"
    target.write_text('# Written by "clientcheck autostart install"; but through a link\n')
    (units / "clientcheck-machine.timer").symlink_to(target)
    (units / "timers.target.wants" / "clientcheck-machine.timer").symlink_to("/lib/systemd/system/other.timer")
    _postrm(root, "purge")
    assert (units / "clientcheck-machine.service").read_text().startswith("# the administrator's own")
    assert os.path.islink(units / "clientcheck-machine.timer") and target.exists()
    assert os.path.islink(units / "timers.target.wants" / "clientcheck-machine.timer")


def test_postrm_removes_the_cache_folder_only_when_it_held_only_ours(throwaway_root, tmp_path):
    root = throwaway_root
    cache = root.path("/var/cache/clientcheck")
    cache.mkdir()
    ours = ["rules-0123456789abcdef.cache", ".rules-0123456789abcdef.cache.a1b2c3d4e5f6.tmp"]
    for name in ours:
        (cache / name).write_bytes(b"{}\n")
    _postrm(root, "remove")  # not a purge: the cache stays
    assert sorted(path.name for path in cache.iterdir()) == sorted(ours)
    _postrm(root, "purge")
    assert not os.path.lexists(cache)
    _postrm(root, "purge")  # nothing there: still fine

    # A folder of someone else's: a subfolder, a link named like ours (its target is not touched), a file.
    cache.mkdir()
    (cache / "old").mkdir()
    target = tmp_path / "target.cache"
    target.write_text("kept")
    (cache / "rules-fedcba9876543210.cache").symlink_to(target)
    (cache / "rules-0123456789abcdef.cache").write_text("ours")
    _postrm(root, "purge")
    assert sorted(path.name for path in cache.iterdir()) == ["old", "rules-fedcba9876543210.cache"]
    assert target.read_text() == "kept"

    # /var/cache/clientcheck itself a link: neither it nor what it points to is touched.
    (cache / "old").rmdir()
    (cache / "rules-fedcba9876543210.cache").unlink()
    cache.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "rules-0123456789abcdef.cache").write_text("not ours to remove")
    cache.symlink_to(elsewhere)
    _postrm(root, "purge")
    assert cache.is_symlink()
    assert (elsewhere / "rules-0123456789abcdef.cache").read_text() == "not ours to remove"


def test_postrm_removes_the_machines_collector_state_and_only_that(throwaway_root, tmp_path):
    """The machine's agent id, host key, schedule, log, lock and spooled reports go on purge (with the
    temporary files of a write cut short); what is not the agent's, and a link, are left alone."""
    root = throwaway_root
    state = root.path("/var/lib/clientcheck")
    collector = state / "collector"
    spool = collector / "spool"
    spool.mkdir(parents=True)
    ours = [
        "agent-id",
        "enrollment.json",
        "schedule.json",
        "ship.log",
        "ship.lock",
        ".enrollment.json.a1b2c3d4e5f6.tmp",
    ]
    for name in ours:
        (collector / name).write_text("{}\n")
    report = "0000000001-01795597200-0d8e7c52-3f7a-4a55-9a52-59d0b0f9a6e1-" + "ab" * 32 + ".json"
    (spool / report).write_text("{}\n")
    (spool / f".{report}.0123456789ab.tmp").write_text("cut short")
    (state / "rules-floor.json").write_text("{}\n")
    _postrm(root, "remove")  # not a purge: the key and the spool stay
    assert sorted(path.name for path in collector.iterdir()) == sorted([*ours, "spool"])
    _postrm(root, "purge")
    assert not os.path.lexists(state)

    # An administrator's file in the collector folder: it, and so the folder, stay.
    spool.mkdir(parents=True)
    (spool / report).write_text("{}\n")
    (collector / "enrollment.json").write_text("{}\n")
    (collector / "README.admin").write_text("mine\n")
    _postrm(root, "purge")
    assert sorted(path.name for path in collector.iterdir()) == ["README.admin"]
    (collector / "README.admin").unlink()
    collector.rmdir()

    # The collector folder a link: neither it nor what it points to is touched.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "enrollment.json").write_text("not ours to remove")
    collector.symlink_to(elsewhere)
    _postrm(root, "purge")
    assert collector.is_symlink()
    assert (elsewhere / "enrollment.json").read_text() == "not ours to remove"
