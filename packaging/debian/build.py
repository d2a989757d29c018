"""Build clientcheck's Debian package from its wheel.

    python3 packaging/debian/build.py [--wheel PATH] [--out DIR] [--maintainer "Name <address>"]

Layout (why: see docs/packages/debian.md):

- ``/usr/lib/clientcheck/``: the wheel and its dependencies, installed by ``pip install --target`` for
  Debian's own ``/usr/bin/python3``. Private copies, so the package does not depend on the distribution's
  older requests or cryptography.
- ``/usr/bin/clientcheck``: a small launcher, ``python3 -IS`` with the private folder on ``sys.path``.
- ``/usr/share/doc/clientcheck/``: copyright (every bundled distribution and its license) and changelog;
  ``/usr/share/man/man1/clientcheck.1.gz`` made from the program's own ``--help``.
- No byte-code caches are shipped: postinst compiles them, prerm removes them.

The package is built by ``dpkg-deb --build --root-owner-group``, so no root or fakeroot is needed.
"""

from __future__ import annotations

import argparse
import email.parser
import gzip
import hashlib
import os
import re
import shutil
import stat
import string
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from email.message import Message

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PACKAGE = "clientcheck"
TARGET_PYTHON = "/usr/bin/python3"  # the interpreter the package runs with (its Depends: python3)
PRIVATE_DIR = "/usr/lib/clientcheck"
LAUNCHER = "/usr/bin/clientcheck"
DOC_DIR = "/usr/share/doc/clientcheck"
MANPAGE = "/usr/share/man/man1/clientcheck.1.gz"
LINTIAN_OVERRIDES = "/usr/share/lintian/overrides/clientcheck"
MAINTAINER_SCRIPTS = ("postinst", "prerm", "postrm")
DEFAULT_MAINTAINER = "clientcheck developers <clientcheck@example.org>"
# Licenses Debian ships in /usr/share/common-licenses, which a copyright file may refer to instead of quoting.
COMMON_LICENSES = ("Apache-2.0", "MPL-2.0", "GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "CC0-1.0")


class BuildError(Exception):
    """A build that cannot go on; main() prints it as one line."""


# --- pure parts: versions, control fields, dependencies -------------------------------------------------

_PEP440 = re.compile(
    r"(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:\.[a-z0-9]+)*))?"
)


def debian_version(version: str) -> str:
    """A normalised PEP 440 version (as a wheel's name carries it) written so that dpkg orders it the same way.

    In dpkg's order ``~`` sorts before the end of the string, the end before letters, letters before ``+``
    and ``+`` before ``.``. So pre-releases become ``1.0~rc1`` (< ``1.0``), a development release
    ``1.0~~dev1`` (before ``1.0~a1``, as PEP 440 has it), a post-release ``1.0+post1`` (before ``1.0.1``; a
    ``.post1`` would sort after it), and a local label ``1.0+0abc`` (after ``1.0``, before ``1.0+post1``
    whatever the label). The epoch ``1!`` becomes dpkg's ``1:``.
    """
    match = _PEP440.fullmatch(version)
    if match is None:
        raise BuildError(f"{version!r} is not a normalised PEP 440 version")
    parts = match.groupdict()
    text = f"{parts['epoch']}:" if parts["epoch"] else ""
    text += parts["release"]
    if parts["pre"]:
        text += f"~{parts['pre']}{parts['pre_n']}"
    if parts["post"]:
        text += f"+post{parts['post']}"
    if parts["dev"]:
        # A development release of a final or post release sorts before its pre-releases: one more '~'.
        text += f"~dev{parts['dev']}" if parts["pre"] or parts["post"] else f"~~dev{parts['dev']}"
    if parts["local"]:
        text += f"+0{parts['local']}"
    return text


def render_control(template: str, fields: Mapping[str, str]) -> str:
    """The control file: ``template`` with its ``${name}`` fields filled in.

    Every value must be one non-empty line: a newline in a value would add a field of its own making.
    """
    for name, value in fields.items():
        if not value.strip() or "\n" in value or "\r" in value:
            raise BuildError(f"control field {name}: {value!r} must be one non-empty line")
    try:
        text = string.Template(template).substitute(fields)
    except KeyError as missing:
        raise BuildError(f"control template needs a value for {missing}") from None
    except ValueError as error:
        raise BuildError(f"control template: {error}") from None
    return text if text.endswith("\n") else text + "\n"


_VERSION_SPECIFIC_EXTENSION = re.compile(r"\.cpython-(\d)(\d+)[-.]")


def python_depends(extension_names: Iterable[str], python_version: tuple[int, int]) -> str:
    """The ``python3`` dependency for private libraries installed by and for ``python_version``.

    Dependencies were chosen with that version's markers (tomli only below 3.11), so it is the floor. An
    extension module built for one CPython version (``_cffi_backend.cpython-311-…so``, which cryptography
    loads) ties the package to that version, as dh_python3 does for such packages; ``abi3`` modules do not.
    """
    major, minor = python_version
    depends = f"python3 (>= {major}.{minor}~)"
    for name in extension_names:
        match = _VERSION_SPECIFIC_EXTENSION.search(name)
        if match:
            if (int(match.group(1)), int(match.group(2))) != python_version:
                raise BuildError(f"{name} is built for another Python than {major}.{minor}")
            return f"{depends}, python3 (<< {major}.{minor + 1})"
    return depends


def installed_size_kib(root: Path) -> int:
    """Installed-Size as dpkg-gencontrol counts it: each regular file in whole KiB (rounded up), 1 KiB for each
    folder, symlink or other object; DEBIAN/ is not installed, so not counted."""
    total = 0
    for folder, directories, files in os.walk(root):
        if folder == str(root):
            directories[:] = [name for name in directories if name != "DEBIAN"]
        for name in files:
            status = os.lstat(os.path.join(folder, name))
            total += -(-status.st_size // 1024) if stat.S_ISREG(status.st_mode) else 1
        total += len(directories)
    return total


def md5sums(root: Path) -> str:
    """DEBIAN/md5sums: every regular file under ``root`` except DEBIAN/, sorted, as md5sum writes them."""
    lines = []
    for path in sorted(_files(root)):
        relative = path.relative_to(root).as_posix()
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        lines.append(f"{digest}  {relative}\n")
    return "".join(lines)


def _files(root: Path) -> list[Path]:
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and path.relative_to(root).parts[0] != "DEBIAN"
    ]


def normalise_modes(root: Path, executables: Iterable[str]) -> None:
    """Debian's modes: folders and programs 0755, every other file 0644 (extension modules too, as dh_fixperms
    leaves them). What the wheels' archives said does not matter."""
    wanted = {root / name.lstrip("/") for name in executables}
    for folder, _directories, files in os.walk(root):
        os.chmod(folder, 0o755)  # noqa: S103 - Debian policy: installed folders are world-readable
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                os.chmod(path, 0o755 if path in wanted else 0o644)


def render_changelog(version: str, wheel_name: str, maintainer: str, when: float) -> str:
    """A native package's changelog: one entry for this build, dated ``when`` (SOURCE_DATE_EPOCH if set)."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    return (
        f"{PACKAGE} ({version}) unstable; urgency=medium\n\n"
        f"  * Built from {wheel_name}.\n"
        f"  * The libraries it carries are listed in /usr/share/doc/{PACKAGE}/copyright.\n\n"
        f" -- {maintainer}  {date}\n"
    )


def _roff(text: str) -> str:
    """Preformatted text for a man page: backslashes and minus signs escaped, no line read as a request."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        escaped = line.replace("\\", "\\e").replace("-", "\\-")
        lines.append("\\&" + escaped if escaped.startswith((".", "'")) else escaped)
    return "\n".join(lines)


def render_manpage(version: str, when: float, top_help: str, command_help: Mapping[str, str]) -> str:
    """clientcheck(1), from the program's own ``--help`` texts, so it cannot drift from the code."""
    date = time.strftime("%Y-%m-%d", time.gmtime(when))
    parts = [
        f'.TH CLIENTCHECK 1 "{date}" "clientcheck {version}" "User Commands"',
        ".SH NAME",
        "clientcheck \\- check that the OS, web browsers and PDF viewers are up to date",
        ".SH SYNOPSIS",
        ".B clientcheck",
        "[\\fICOMMAND\\fR] [\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        ".nf",
        _roff(top_help),
        ".fi",
        ".SH COMMANDS",
    ]
    for command, text in command_help.items():
        parts += [f".SS {command}", ".nf", _roff(text), ".fi"]
    parts += [
        ".SH FILES",
        ".TP",
        f".I {PRIVATE_DIR}",
        "clientcheck, its bundled rules, and the Python libraries it uses",
        ".SH SEE ALSO",
        f"{DOC_DIR}/copyright",
        "",
    ]
    return "\n".join(parts)


_COMMAND_LINE = re.compile(r"^  ([a-z][a-z-]*) {2,}\S", re.MULTILINE)


def top_level_commands(help_text: str) -> list[str]:
    """The one-word commands listed under ``commands:`` in the top-level help."""
    section = help_text.split("\ncommands:\n", 1)[-1].split("\n\n", 1)[0]
    return _COMMAND_LINE.findall(section)


# --- bundled distributions: copyright --------------------------------------------------------------------


class Distribution:
    """One installed distribution in the private folder: what the copyright file says about it."""

    __slots__ = ("copyright", "dist_info", "license", "license_files", "name", "paths", "version")

    def __init__(self, dist_info: Path) -> None:
        metadata = email.parser.HeaderParser().parsestr(
            (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
        )
        self.dist_info = dist_info
        self.name = str(metadata["Name"])
        self.version = str(metadata["Version"])
        self.license = _license_of(metadata.get_all("License-Expression") or [], metadata)
        author = metadata.get("Author") or _name_of(metadata.get("Author-email") or "")
        self.copyright = f"{author}" if author else f"the {self.name} authors"
        self.license_files = [
            found
            for name in metadata.get_all("License-File") or []
            for found in (dist_info / "licenses" / name, dist_info / name)
            if found.is_file()
        ]
        self.paths = _top_level_paths(dist_info)


def _name_of(addresses: str) -> str:
    """The names in an ``Author-email`` field (``Name <address>, …``), without the addresses."""
    names = [part.split("<", 1)[0].strip().strip('"') for part in addresses.split(",")]
    return ", ".join(name for name in names if name)


_CLASSIFIER_LICENSES = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
}


def _license_of(expressions: list[str], metadata: Message) -> str:
    """The license as DEP-5 writes it: the SPDX expression (``OR`` → ``or``), else the License field when it is a
    short name, else the trove classifier."""
    text = expressions[0] if expressions else str(metadata.get("License") or "")
    if not text or "\n" in text or len(text) > 60:
        classifiers = [_CLASSIFIER_LICENSES.get(c) for c in metadata.get_all("Classifier") or []]
        text = next((name for name in classifiers if name), "")
    if not text:
        raise BuildError(f"{metadata['Name']}: its metadata names no license")
    return re.sub(r"\bOR\b", "or", re.sub(r"\bAND\b", "and", text.strip()))


def _top_level_paths(dist_info: Path) -> list[str]:
    """The top-level files and folders a distribution installed, from its RECORD (bin/ is not shipped)."""
    found: set[str] = set()
    for line in (dist_info / "RECORD").read_text(encoding="utf-8").splitlines():
        path = line.rsplit(",", 2)[0]
        top = path.split("/", 1)[0]
        if top and top not in ("..", "bin") and "/" in path:
            found.add(f"{top}/*")
        elif top and top not in ("..", "bin"):
            found.add(top)
    return sorted(found)


def render_copyright(template: str, lib_dir: Path, installed_prefix: str) -> str:
    """debian/copyright in DEP-5 form: clientcheck's own paragraph, then one per bundled distribution, then a
    paragraph for each license they use."""
    distributions = sorted(
        (Distribution(path) for path in lib_dir.glob("*.dist-info")), key=lambda dist: dist.name.lower()
    )
    files_paragraphs = []
    licenses: dict[str, list[str]] = {}
    prefix = installed_prefix.strip("/")
    for dist in distributions:
        if dist.name == PACKAGE:
            continue
        patterns = "\n ".join(f"{prefix}/{path}" for path in dist.paths)
        license_files = ", ".join(f"/{prefix}/{path.relative_to(lib_dir).as_posix()}" for path in dist.license_files)
        files_paragraphs.append(
            f"Files: {patterns}\nCopyright: {dist.copyright}\nLicense: {dist.license}\n"
            f"Comment: {dist.name} {dist.version}; license files: {license_files or 'none shipped'}\n"
        )
        for name in re.split(r" (?:or|and|with) ", dist.license.strip("()")):
            licenses.setdefault(name.strip("() "), []).append(dist.name)
    license_paragraphs = []
    for name in sorted(licenses):
        if name == "MIT":
            continue  # the template quotes it: clientcheck's own license
        if name in COMMON_LICENSES:
            body = f"On Debian systems, the full text is in /usr/share/common-licenses/{name}."
        else:
            users = ", ".join(sorted(licenses[name]))
            body = (
                f"The full text, with each holder's copyright notice, is in the license files of {users}, "
                "named in their Files paragraphs above."
            )
        license_paragraphs.append(f"\nLicense: {name}\n {body}\n")
    return string.Template(template).substitute(
        bundled_files="\n".join(files_paragraphs), bundled_licenses="".join(license_paragraphs)
    )


# --- the build ---------------------------------------------------------------------------------------------


def _run(command: Sequence[str], *, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BuildError(f"cannot run {command[0]}: {error.strerror}") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise BuildError(f"{' '.join(command[:3])} … failed ({proc.returncode}): {detail[-1] if detail else ''}")
    return proc.stdout


def build_wheel(work: Path) -> Path:
    """``pip wheel --no-deps .`` of the repository this script belongs to."""
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work), str(REPO)])
    wheels = sorted(work.glob(f"{PACKAGE}-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"pip wheel made {len(wheels)} {PACKAGE} wheels in {work}")
    return wheels[0]


def wheel_version(wheel: Path) -> str:
    """The version in the wheel's own METADATA (the file name could have been renamed)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise BuildError(f"{wheel}: not a wheel (no single .dist-info/METADATA)")
            metadata = email.parser.HeaderParser().parsestr(archive.read(names[0]).decode("utf-8"))
    except (OSError, zipfile.BadZipFile) as error:
        raise BuildError(f"{wheel}: cannot read the wheel: {error}") from None
    if metadata["Name"] != PACKAGE:
        raise BuildError(f"{wheel}: a wheel of {metadata['Name']!r}, not {PACKAGE}")
    return str(metadata["Version"])


def _target_python_version() -> tuple[int, int]:
    if not os.access(TARGET_PYTHON, os.X_OK):
        raise BuildError(f"{TARGET_PYTHON} is missing: the package is built for Debian's python3 (apt install python3)")
    major, minor = _run([TARGET_PYTHON, "-c", "import sys; print(*sys.version_info[:2])"]).split()
    return int(major), int(minor)


def _install_private(wheel: Path, lib_dir: Path) -> None:
    """The wheel and its dependencies, chosen and installed for the target interpreter (``pip --python``:
    its version's markers and wheel tags), without byte-code and without console scripts."""
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            TARGET_PYTHON,
            "install",
            "--quiet",
            "--no-compile",
            "--no-warn-script-location",
            "--disable-pip-version-check",
            "--target",
            str(lib_dir),
            str(wheel),
        ]
    )
    # Console scripts carry the build machine's interpreter path; the launcher replaces ours.
    shutil.rmtree(lib_dir / "bin", ignore_errors=True)
    for direct_url in lib_dir.glob("*.dist-info/direct_url.json"):
        direct_url.unlink()  # names the wheel's path on the build machine: not reproducible, of no use
    for cache in list(lib_dir.rglob("__pycache__")):
        shutil.rmtree(cache)


def _help_texts(lib_dir: Path) -> tuple[str, str, dict[str, str]]:
    """The version line, top-level help and each command's help, from the staged copy run by the target
    interpreter: a smoke test of the private folder as well."""

    def run(*args: str) -> str:
        code = f"import sys; sys.path.append({str(lib_dir)!r}); from clientcheck.cli import main; sys.exit(main())"
        return _run([TARGET_PYTHON, "-ISB", "-c", code, *args])

    top = run("--help")
    return run("--version").strip(), top, {command: run(command, "--help") for command in top_level_commands(top)}


def _strip(extensions: list[Path]) -> None:
    """Strip the extension modules' symbols as dh_strip does for shared libraries: the wheels ship them unstripped
    (megabytes of symbols nobody here debugs)."""
    strip = shutil.which("strip")
    if strip is None:
        print("build.py: warning: strip (binutils) missing: extension modules left unstripped", file=sys.stderr)
        return
    if extensions:
        _run([strip, "--remove-section=.comment", "--remove-section=.note", "--strip-unneeded", *map(str, extensions)])


def _shlibs_depends(root: Path, extensions: list[Path]) -> list[str]:
    """The shared libraries the extension modules link to (libc6 …), from dpkg-shlibdeps like any Debian package;
    none when dpkg-dev is not installed (then said on stderr)."""
    if not extensions:
        return []
    shlibdeps = shutil.which("dpkg-shlibdeps")
    if shlibdeps is None:
        print("build.py: warning: dpkg-shlibdeps (dpkg-dev) missing: no shared-library dependencies", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as source:
        # dpkg-shlibdeps wants a source package's debian/control to run in.
        (Path(source) / "debian").mkdir()
        (Path(source) / "debian" / "control").write_text(
            f"Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n", encoding="utf-8"
        )
        output = _run([shlibdeps, "-O", *(f"-e{path}" for path in extensions)], cwd=Path(source))
    for line in output.splitlines():
        if line.startswith("shlibs:Depends="):
            return [part.strip() for part in line.split("=", 1)[1].split(",") if part.strip()]
    return []


def build(wheel: Path | None, out: Path, maintainer: str) -> Path:
    """Build the package into ``out`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    when = float(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    python_version = _target_python_version()
    with tempfile.TemporaryDirectory(prefix="clientcheck-deb-") as work_name:
        work = Path(work_name)
        if wheel is None:
            wheel = build_wheel(work / "wheel")
        version = debian_version(wheel_version(wheel))
        root = work / "root"
        lib_dir = root / PRIVATE_DIR.lstrip("/")
        _install_private(wheel, lib_dir)

        version_line, top_help, command_help = _help_texts(lib_dir)
        if version_line != f"{PACKAGE} {wheel_version(wheel)}":
            raise BuildError(f"the staged copy says {version_line!r}, the wheel {wheel_version(wheel)!r}")

        launcher = root / LAUNCHER.lstrip("/")
        launcher.parent.mkdir(parents=True)
        launcher.write_text(
            (HERE / "clientcheck.launcher").read_text(encoding="utf-8").replace("@PRIVATE_DIR@", PRIVATE_DIR),
            encoding="utf-8",
        )
        doc_dir = root / DOC_DIR.lstrip("/")
        doc_dir.mkdir(parents=True)
        (doc_dir / "copyright").write_text(
            render_copyright((HERE / "copyright.in").read_text(encoding="utf-8"), lib_dir, PRIVATE_DIR),
            encoding="utf-8",
        )
        _write_gzip(doc_dir / "changelog.gz", render_changelog(version, wheel.name, maintainer, when))
        manpage = root / MANPAGE.lstrip("/")
        manpage.parent.mkdir(parents=True)
        _write_gzip(manpage, render_manpage(version, when, top_help, command_help))

        overrides = root / LINTIAN_OVERRIDES.lstrip("/")
        overrides.parent.mkdir(parents=True)
        shutil.copyfile(HERE / "lintian-overrides", overrides)
        extensions = sorted(lib_dir.rglob("*.so"))
        _strip(extensions)

        control_dir = root / "DEBIAN"
        control_dir.mkdir()
        for script in MAINTAINER_SCRIPTS:
            shutil.copyfile(HERE / script, control_dir / script)
        normalise_modes(root, [LAUNCHER, *(f"DEBIAN/{script}" for script in MAINTAINER_SCRIPTS)])

        architecture = _run(["dpkg", "--print-architecture"]).strip() if extensions else "all"
        depends = [python_depends((path.name for path in extensions), python_version)]
        depends += _shlibs_depends(root, extensions)
        (control_dir / "md5sums").write_text(md5sums(root), encoding="utf-8")
        os.chmod(control_dir / "md5sums", 0o644)
        control = render_control(
            (HERE / "control.in").read_text(encoding="utf-8"),
            {
                "version": version,
                "architecture": architecture,
                "maintainer": maintainer,
                "installed_size": str(installed_size_kib(root)),
                "depends": ", ".join(depends),
            },
        )
        (control_dir / "control").write_text(control, encoding="utf-8")
        os.chmod(control_dir / "control", 0o644)

        target = out / f"{PACKAGE}_{version.split(':')[-1]}_{architecture}.deb"
        _run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(target)])
    return target


def _write_gzip(path: Path, text: str) -> None:
    # mtime 0 and no file name inside, as gzip -9n: the same input gives the same bytes.
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build clientcheck's Debian package from its wheel.")
    parser.add_argument("--wheel", type=Path, help="the clientcheck wheel (default: pip wheel --no-deps of this repo)")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="where to put the .deb (default: dist)")
    parser.add_argument(
        "--maintainer",
        default=os.environ.get("DEB_MAINTAINER", DEFAULT_MAINTAINER),
        help="the Maintainer field, 'Name <address>' (default: $DEB_MAINTAINER, else %(default)s)",
    )
    args = parser.parse_args(argv)
    if shutil.which("dpkg-deb") is None:
        print("build.py: error: dpkg-deb is missing (it comes with dpkg)", file=sys.stderr)
        return 1
    try:
        target = build(args.wheel.resolve() if args.wheel else None, args.out.resolve(), args.maintainer)
    except BuildError as error:
        print(f"build.py: error: {error}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
