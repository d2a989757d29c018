"""The PyInstaller recipe (packaging/pyinstaller/clientcheck.spec), built for real on this machine.

What the spec bundles is worked out by packaging/pyinstaller/clientcheck_bundle.py; its choices are checked
first. Then the one-folder app is built in a temporary folder with both executables, and run offline: a
check against the bundled rules in every output format (each renderer is imported by a name made at run
time, which PyInstaller cannot see), rule validation, inventory, and signing (cryptography's compiled
parts). Every module of the package must be in the bundle's archive. Windows and macOS builds are not run
here: PyInstaller does not cross-build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import clientcheck
from clientcheck.config.table import FORMATS
from conftest import DEFAULT_RULES, missing

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "packaging" / "pyinstaller"
SPEC = HERE / "clientcheck.spec"


def _load_helper():
    spec = importlib.util.spec_from_file_location("clientcheck_bundle", HERE / "clientcheck_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = _load_helper()


def _package_modules() -> set[str]:
    """Every module of the installed package, as Python's own import machinery finds them."""
    found = {"clientcheck"}
    for info in pkgutil.walk_packages(clientcheck.__path__, "clientcheck."):
        found.add(info.name)
    return found


def test_hidden_imports_are_every_module_of_the_package():
    top = bundle.package_dir()
    assert Path(top).resolve() == Path(clientcheck.__file__).resolve().parent
    names = bundle.submodules(top)
    assert len(names) == len(set(names))
    assert set(names) == _package_modules()
    # The ones PyInstaller cannot find by itself: imported by a name made at run time.
    assert {f"clientcheck.render.{name}" for name in FORMATS} <= set(names)


def test_submodules_skip_data_folders_and_caches(tmp_path):
    package = tmp_path / "pkg"
    for folder in ("", "sub", "sub/__pycache__", "data", "data/nested"):
        (package / folder).mkdir(parents=True, exist_ok=True)
    for name in ("__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "sub/__pycache__/b.cpython-311.pyc"):
        (package / name).write_text("")
    (package / "data" / "helper.py").write_text("")  # a .py file in a data folder is data, not a module
    (package / "data" / "nested" / "t.json").write_text("{}")
    assert sorted(bundle.submodules(str(package), "pkg")) == ["pkg", "pkg.a", "pkg.sub", "pkg.sub.b"]
    data = {path for path, _source, _kind in bundle.data_files(str(package))}
    assert {"pkg/data/helper.py", "pkg/data/nested/t.json"} <= data
    assert not any(path.startswith("pkg/") and path.endswith((".pyc", "/a.py")) for path in data)


def test_data_files_carry_the_catalog_and_the_bundled_rules():
    entries = bundle.data_files(bundle.package_dir())
    in_bundle = {path: Path(source) for path, source, kind in entries if kind == "DATA"}
    assert in_bundle["clientcheck/data/catalog.json"].is_file()
    rules = in_bundle["clientcheck/data/default-rules.json"]
    assert rules.read_bytes() == DEFAULT_RULES.read_bytes()
    assert not any(path.endswith((".py", ".pyc")) for path in in_bundle)  # the modules go to the archive


def test_autostart_templates_are_bundled():
    templates = REPO / "agent" / "clientcheck" / "data" / "autostart"
    in_bundle = {path: Path(source) for path, source, _kind in bundle.data_files(bundle.package_dir())}
    for template in templates.iterdir():
        assert in_bundle[f"clientcheck/data/autostart/{template.name}"].read_bytes() == template.read_bytes()


def test_a_package_without_its_bundled_rules_is_not_bundled(tmp_path):
    # Everything the agent reads is in the package: nothing is looked for elsewhere in a checkout.
    (tmp_path / "clientcheck" / "data").mkdir(parents=True)
    (tmp_path / "clientcheck" / "__init__.py").write_text("")
    (tmp_path / "clientcheck" / "data" / "catalog.json").write_text("{}")
    with pytest.raises(SystemExit, match=r"clientcheck/data/default-rules\.json is missing from the package"):
        bundle.data_files(str(tmp_path / "clientcheck"))
    (tmp_path / "clientcheck" / "data" / "default-rules.json").write_text("{}")
    # A source tree no build ran in has no compiled translations: bundled, it would speak English alone.
    with pytest.raises(SystemExit, match=r"clientcheck/data/locale/en\.mo is missing from the package"):
        bundle.data_files(str(tmp_path / "clientcheck"))
    (tmp_path / "clientcheck" / "data" / "locale").mkdir()
    (tmp_path / "clientcheck" / "data" / "locale" / "en.mo").write_bytes(b"")
    entries = bundle.data_files(str(tmp_path / "clientcheck"))
    rules = str(tmp_path / "clientcheck" / "data" / "default-rules.json")
    assert ("clientcheck/data/default-rules.json", rules, "DATA") in entries


def test_only_the_unneeded_runtime_hooks_are_dropped():
    scripts = [
        ("pyiboot01_bootstrap", "/x/pyiboot01_bootstrap.py", "PYSOURCE"),
        ("pyi_rth_inspect", "/x/pyi_rth_inspect.py", "PYSOURCE"),
        ("pyi_rth_cryptography_openssl", "/x/pyi_rth_cryptography_openssl.py", "PYSOURCE"),
        ("pyi_rth_pkgutil", "/x/pyi_rth_pkgutil.py", "PYSOURCE"),
        ("pyi_rth_multiprocessing", "/x/pyi_rth_multiprocessing.py", "PYSOURCE"),
        ("clientcheck_main", str(HERE / "clientcheck_main.py"), "PYSOURCE"),
    ]
    kept = [name for name, _path, _kind in bundle.without_unneeded_runtime_hooks(scripts)]
    assert kept == ["pyiboot01_bootstrap", "pyi_rth_cryptography_openssl", "clientcheck_main"]


@pytest.mark.parametrize(
    ("platform", "env", "wanted"),
    [
        ("win32", {}, True),
        ("darwin", {}, True),
        ("linux", {}, False),
        ("linux", {"CLIENTCHECK_BUILD_WINDOWLESS": "1"}, True),
    ],
)
def test_windowless_executable_where_it_means_something(platform, env, wanted):
    assert bundle.windowless_wanted(platform, env) is wanted


# --- for real ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    """The one-folder app, built by PyInstaller from the spec, with the windowless executable too."""
    if importlib.util.find_spec("PyInstaller") is None:
        missing("PyInstaller is not installed: pip install pyinstaller")
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(SPEC),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=work,
        env={**os.environ, "CLIENTCHECK_BUILD_WINDOWLESS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    print(f"PyInstaller build: {time.monotonic() - started:.0f} s")
    return work / "dist" / "clientcheck"


def _exe(app: Path, name: str = "clientcheck") -> str:
    return str(app / (name + ".exe" if sys.platform == "win32" else name))


def _run(app: Path, *args: str, name: str = "clientcheck", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # An empty environment but PATH: nothing from this test session (PYTHONPATH, the venv) can help the bundle.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd or app)}
    return subprocess.run(
        [_exe(app, name), *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd or app
    )


def _offline() -> list[str]:
    """A network namespace of its own (no interface up): the run is truly offline."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
        return [unshare, "--net"]
    return []


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((REPO / "agent" / "clientcheck" / "data" / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.system
def test_one_folder_layout(app):
    assert Path(_exe(app)).is_file() and os.access(_exe(app), os.X_OK)
    assert Path(_exe(app, "clientcheckw")).is_file()
    internal = app / "_internal"
    assert (internal / "clientcheck" / "data" / "catalog.json").is_file()
    bundled = internal / "clientcheck" / "data" / "default-rules.json"
    assert bundled.read_bytes() == DEFAULT_RULES.read_bytes()
    assert app.is_dir() and not (app.parent / "clientcheck.exe").exists()  # one folder, not one file


@pytest.mark.system
def test_every_module_of_the_package_is_in_the_bundle(app):
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(_exe(app))
    pyz_names = [name for name in archive.toc if name.endswith(".pyz")]
    assert len(pyz_names) == 1, archive.toc.keys()
    bundled = set(archive.open_embedded_archive(pyz_names[0]).toc)
    missing = _package_modules() - bundled
    assert not missing, f"not in the bundle: {sorted(missing)}"
    for library in ("requests", "cryptography", "psutil", "jeepney", "jeepney.auth", "jeepney.low_level"):
        assert library in bundled
    assert "platformdirs" not in bundled  # a test dependency only: the agent computes its folders itself
    assert "clientcheck_main" in archive.toc
    assert not bundle.UNNEEDED_RUNTIME_HOOKS & set(archive.toc), "runtime hooks that cost start-up time"


@pytest.mark.system
@pytest.mark.parametrize("name", ["clientcheck", "clientcheckw"])
def test_version(app, name):
    proc = _run(app, "--version", name=name)
    assert (proc.returncode, proc.stdout) == (0, f"clientcheck {clientcheck.__version__}\n"), proc.stderr


@pytest.mark.system
def test_check_offline_with_the_bundled_rules(app):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(app)}
    proc = subprocess.run(
        [*_offline(), _exe(app), "check", "--format", "json"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    _validator("report.schema.json").validate(report)
    assert report["rules"]["source"] == "bundled"
    # The bundle finds what this checkout finds on the same machine.
    here = subprocess.run(
        [sys.executable, "-m", "clientcheck", "inventory", "--format", "json"], capture_output=True, text=True
    )
    assert sorted((s["product"], s["version"]) for s in report["software"]) == sorted(
        (s["product"], s["version"]) for s in json.loads(here.stdout)["software"]
    )


@pytest.mark.system
def test_the_bundle_speaks_the_persons_language(app):
    # The compiled catalogs are data files of the package: the bundle carries them and reads them.
    proc = _run(app, "check", "--lang", "fr")
    assert proc.returncode in (0, 1) and proc.stderr == "", proc.stderr
    assert "sur cet ordinateur" in proc.stdout.splitlines()[0]
    assert sorted(path.name for path in (app / "_internal" / "clientcheck" / "data" / "locale").iterdir()) == [
        "de.mo", "en.mo", "es.mo", "fr.mo", "it.mo", "nl.mo", "pt.mo"
    ]  # fmt: skip


@pytest.mark.system
@pytest.mark.parametrize("output_format", FORMATS)
def test_every_output_format(app, output_format):
    proc = _run(app, "check", "--format", output_format)
    expected = (0, 1, 2) if output_format == "nagios" else (0, 1)  # Nagios: 2 is CRITICAL
    assert proc.returncode in expected, proc.stdout + proc.stderr
    assert proc.stdout.strip()
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.system
def test_rules_validate(app):
    proc = _run(app, "rules", "validate", str(DEFAULT_RULES))
    assert proc.returncode == 0, proc.stderr
    assert "default-rules.json: valid: " in proc.stdout


@pytest.mark.system
def test_inventory(app):
    proc = _run(app, "inventory", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    _validator("inventory.schema.json").validate(json.loads(proc.stdout))


@pytest.mark.system
def test_signing_uses_the_bundled_cryptography(app, tmp_path):
    shutil.copyfile(DEFAULT_RULES, tmp_path / "rules.json")
    for command in (
        ["rules", "keygen"],
        ["rules", "sign", "rules.json"],
        ["rules", "verify", "rules.json", "--key", "clientcheck.pub"],
    ):
        proc = _run(app, *command, cwd=tmp_path)
        assert proc.returncode == 0, f"{command}: {proc.stderr}"
    assert "is good" in proc.stdout


@pytest.mark.system
def test_login_notice_goes_through_the_bundled_jeepney(app, tmp_path):
    # jeepney is imported only when a notice is shown, inside functions: a login run that owes an update,
    # against a bus that answers as a notification server does, shows that PyInstaller carried it. The
    # notice has a button ("check again"), so the bundle starts itself as the notice's listener
    # ("clientcheck notice-listener"), which shows it: the frozen program runs its own hidden command too.
    from jeepney import new_method_return
    from jeepney.low_level import HeaderFields, Parser

    from test_notify_linux import accept_authentication, fake_bus

    answers = {
        "Hello": ("s", (":1.9",)),
        "GetCapabilities": ("as", (["body"],)),  # no "actions": the listener shows it and leaves
        "GetNameOwner": ("s", (":1.2",)),
        "AddMatch": (None, ()),
        "Notify": ("u", (5,)),
    }
    calls = []

    def notification_server(connection, stop):
        parser = Parser()
        parser.add_data(accept_authentication(connection))
        while len(calls) < 5 and not stop.is_set():
            message = parser.get_next_message()
            if message is None:
                parser.add_data(connection.recv(65536))
                continue
            calls.append(message)
            signature, body = answers[message.header.fields[HeaderFields.member]]
            connection.sendall(new_method_return(message, signature, body).serialise(serial=len(calls)))

    os_id = next(
        line.split("=", 1)[1].strip().strip('"')
        for line in Path("/etc/os-release").read_text().splitlines()
        if line.startswith("ID=")
    )
    rules = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    rules["rules"] = [{"id": "os", "product": os_id, "minimum": "999", "message": {"en": "Upgrade the system"}}]
    (tmp_path / "strict.json").write_text(json.dumps(rules), encoding="utf-8")
    with fake_bus(tmp_path, notification_server) as bus:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            **bus,
        }
        proc = subprocess.run(
            [_exe(app), "login", "--force", "--rules", str(tmp_path / "strict.json")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
    assert (proc.returncode, proc.stderr) == (1, ""), proc.stderr
    members = [call.header.fields[HeaderFields.member] for call in calls]
    assert members == ["Hello", "GetCapabilities", "GetNameOwner", "AddMatch", "Notify"]
    assert calls[4].body[3] == "1 update owed on this computer"
    assert calls[4].body[4].startswith("• Upgrade the system (")
    assert calls[4].body[5] == []  # a server without buttons gets none
