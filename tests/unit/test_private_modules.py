"""CPython's private accelerators (``_json``, ``_sha256`` / ``_sha2``) are used only behind a fallback to the
public module: with the private one missing (as on another Python), each answer is the same.

The private module is hidden in a fresh interpreter by ``sys.modules[name] = None``, which makes importing
it raise ImportError, as a Python without it would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

DOCUMENT = {
    "schema": "clientcheck.report/1",
    "text": 'Firefox ESR 128.3.0esr \u00fcber "quotes" \\ \u2028 \x1f \U0001f600',
    "numbers": [0, -1, 2**53 - 1],
    "nested": {"b": [True, False, None], "a": {"": ""}},
}

PROGRAM = r"""
import json, sys
for name in sys.argv[1:]:
    sys.modules[name] = None  # importing it now raises ImportError
from clientcheck import cjson
from clientcheck.collector.canonical import canonical, content_hash
from clientcheck.digest import sha256_hex
document = json.loads(sys.stdin.read())
text = cjson.dumps_compact(document)
print(json.dumps({
    "dumps": text,
    "loads": cjson.loads(text),
    "canonical": canonical(document).decode("utf-8"),
    "hash": content_hash(document),
    "sha256": sha256_hex(b"clientcheck"),
    "private": sorted(name for name in ("_json", "_sha256", "_sha2") if sys.modules.get(name) is not None),
}))
"""


def _run(*hidden: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-I", "-c", PROGRAM, *hidden],
        input=json.dumps(DOCUMENT),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


PRIVATE_SHA = "_sha2" if sys.version_info >= (3, 12) else "_sha256"


@pytest.mark.parametrize("hidden", [("_json",), (PRIVATE_SHA,), ("_json", PRIVATE_SHA)], ids=str)
def test_without_the_private_module_the_public_one_gives_the_same_answers(hidden: tuple[str, ...]):
    fast = _run()
    assert fast["private"] == sorted(["_json", PRIVATE_SHA])  # the accelerators are what ran
    slow = _run(*hidden)
    assert not set(hidden) & set(slow["private"])
    assert {key: value for key, value in slow.items() if key != "private"} == {
        key: value for key, value in fast.items() if key != "private"
    }
    import hashlib

    assert fast["sha256"] == hashlib.sha256(b"clientcheck").hexdigest()
    assert fast["dumps"] == json.dumps(DOCUMENT, ensure_ascii=False, separators=(",", ":"))
    assert fast["loads"] == DOCUMENT
