"""bench/floor.py: the trace of a run read into what it did to files, and the floor script made from it, which
must do the same to the same files (checked under the real strace). No timing: the benchmark's figures are
read off its output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, require_tool

sys.path.append(str(REPO / "bench"))  # last: no module of bench/ shadows another

import floor  # found through the line above

# What `strace -f -qq -y -e trace=%file,%desc` printed for a run (abridged), with {tree} for the files' folder.
TRACE = """\
4129  execve("/usr/bin/python3", ["python3", "x.py"], 0x7ffd07421750 /* 35 vars */) = 0
4129  openat(AT_FDCWD</work>, "{tree}/os-release", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 3<{tree}/os-release>
4129  newfstatat(3<{tree}/os-release>, "", {{st_mode=S_IFREG|0644, st_size=267, ...}}, AT_EMPTY_PATH) = 0
4129  read(3<{tree}/os-release>, "PRETTY_NAME=\\"Debian GNU/Linux 12 (bookworm)\\"\\nNAME=\\"Debian"..., 268) = 120
4129  read(3<{tree}/os-release>, "", 65536) = 0
4129  close(3<{tree}/os-release>)     = 0
4129  openat(AT_FDCWD</work>, "{tree}/status", O_RDONLY|O_CLOEXEC) = 4<{tree}/status>
4129  pread64(4<{tree}/status>, "Package: a\\n"..., 4096, 8192) = 4096
4129  pread64(4<{tree}/status>, "Package: b\\n"..., 4096, 10240) = 1808
4129  lseek(4<{tree}/status>, 100, SEEK_SET) = 100
4129  read(4<{tree}/status>, "x"..., 50 <unfinished ...>
4130  newfstatat(AT_FDCWD</work>, "{tree}/nothing-here", 0x7ffd07432340, 0) = -1 ENOENT (No such file or directory)
4129  <... read resumed>) = 50
4129  close(4<{tree}/status>)         = 0
4129  openat(AT_FDCWD</work>, "{tree}/apps", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 5<{tree}/apps>
4129  getdents64(5<{tree}/apps>, 0x55779f624a20 /* 4 entries */, 32768) = 128
4129  getdents64(5<{tree}/apps>, 0x55779f624a20 /* 0 entries */, 32768) = 0
4129  openat(5<{tree}/apps>, "caf\\303\\251.desktop", O_RDONLY|O_CLOEXEC) = 6<{tree}/apps/caf\\303\\251.desktop>
4129  read(6<{tree}/apps/caf\\303\\251.desktop>, "[Desktop Entry]\\n"..., 4096) = 16
4129  close(6<{tree}/apps/caf\\303\\251.desktop>) = 0
4129  close(5<{tree}/apps>)            = 0
4129  newfstatat(AT_FDCWD</work>, "{tree}/link", {{st_mode=S_IFLNK|0777, st_size=9, ...}}, AT_SYMLINK_NOFOLLOW) = 0
4129  statx(AT_FDCWD</work>, "{tree}/apps", AT_STATX_SYNC_AS_STAT, STATX_ALL, {{stx_mask=STATX_ALL, ...}}) = 0
4129  readlink("{tree}/link", "os-release", 4095) = 10
4129  openat(AT_FDCWD</work>, "{tree}/absent.list", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
4129  access("{tree}/status", R_OK)   = 0
4129  openat(AT_FDCWD</work>, "{tree}/out.json.tmp", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 7<{tree}/out.json.tmp>
4129  write(7<{tree}/out.json.tmp>, "{{}}", 2) = 2
4129  close(7<{tree}/out.json.tmp>)   = 0
4129  +++ exited with 0 +++
"""


def _machine(tree: Path) -> None:
    tree.mkdir(parents=True, exist_ok=True)
    (tree / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' + "X=1\n" * 40)
    (tree / "status").write_bytes(b"Package: a\n" * 1200)
    (tree / "apps").mkdir()
    (tree / "apps" / "café.desktop").write_text("[Desktop Entry]\nName=Café\n")
    (tree / "link").symlink_to("os-release")


def test_a_trace_is_read_into_what_the_run_did_to_files():
    touched = floor.parse_trace(TRACE.format(tree="/m").splitlines(keepends=True))
    assert touched.reads == {
        "/m/os-release": [(0, 120)],
        "/m/status": [(100, 150), (8192, 12288)],  # two overlapping preads merged; the read after the lseek
        "/m/apps/café.desktop": [(0, 16)],  # relative to the directory's descriptor; octal escapes decoded
    }
    assert list(touched.missing) == ["/m/absent.list"]
    assert list(touched.stats) == ["/m/nothing-here", "/m/apps"]  # another process's too (-f)
    assert list(touched.lstats) == ["/m/link"]
    assert list(touched.lists) == ["/m/apps"]
    assert list(touched.links) == ["/m/link"]
    assert list(touched.accesses) == ["/m/status"]
    assert list(touched.written) == ["/m/out.json.tmp"]  # written: not reading the machine
    assert touched.bytes_read() == 120 + 50 + 4096 + 16  # the overlap once
    assert touched.largest["/m/status"] == 4096  # the most read in one call


def test_the_interpreter_s_own_files_are_left_out():
    touched = floor.parse_trace(TRACE.format(tree="/m").splitlines(keepends=True))
    bare = floor.parse_trace(['1  openat(AT_FDCWD</>, "/m/os-release", O_RDONLY) = 3</m/os-release>\n'])
    kept = floor.machine_only(touched, bare, own={"/m/link"}, roots=["/m/apps"])
    assert list(kept.reads) == ["/m/status"]  # the bare interpreter's file and the import path's are gone
    assert list(kept.lstats) == []  # the script's own path, resolved at start
    assert list(kept.links) == []
    assert list(kept.stats) == ["/m/nothing-here"]
    assert list(kept.missing) == ["/m/absent.list"]


def test_the_floor_script_does_the_same_to_the_same_files(tmp_path: Path):
    strace = require_tool("strace")
    tree = tmp_path / "machine"
    _machine(tree)
    touched = floor.parse_trace(TRACE.format(tree=tree).splitlines(keepends=True))
    script = tmp_path / "floor_check.py"
    script.write_text(floor.floor_script(touched, "the canned trace"), encoding="utf-8")
    compile(script.read_text(encoding="utf-8"), str(script), "exec")  # valid Python, with paths as str
    output = tmp_path / "trace.txt"
    proc = subprocess.run(
        [strace, "-f", "-qq", "-y", "-e", "trace=%file,%desc", "-o", str(output), sys.executable, "-I", "-S", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    with open(output, encoding="utf-8", errors="surrogateescape") as file:
        replayed = floor.parse_trace(file)
    inside = replayed.without(lambda _kind, path: not path.startswith(f"{tree}/"))
    for kind, paths in touched.kinds().items():
        assert inside.kinds()[kind] == paths, kind
    assert inside.written == {}  # the floor only reads
    # Nothing imported: the modules a bare interpreter has, and no more.
    modules = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"exec(open({str(script)!r}).read()); import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bare = subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert modules == bare


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#!/usr/bin/python3 -I -S\n", ("/usr/bin/python3", ["-I", "-S"])),
        ("#!/opt/venv/bin/python3\n", ("/opt/venv/bin/python3", [])),
        ("#!/usr/bin/python3 -IS\n", ("/usr/bin/python3", ["-IS"])),
        ("MZ\x90\x00", None),  # pip's Windows launcher, or a frozen program: no #! line
    ],
)
def test_the_interpreter_and_its_flags_come_from_the_script_s_first_line(tmp_path: Path, line: str, expected):
    from _measure import shebang

    script = tmp_path / "clientcheck"
    script.write_text(line + "import sys\n", encoding="latin-1")
    assert shebang(str(script)) == expected
