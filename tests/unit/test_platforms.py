"""clientcheck.platforms: the running machine's OS in the names reports use, told from ``sys.platform``."""

from __future__ import annotations

import sys

import pytest

from clientcheck import platforms
from clientcheck.errors import UsageError


@pytest.mark.parametrize(
    ("name", "expected"),
    [("linux", "linux"), ("darwin", "macos"), ("win32", "windows"), ("cygwin", "windows"), ("freebsd14", None)],
)
def test_the_running_os_by_its_sys_platform(monkeypatch: pytest.MonkeyPatch, name: str, expected: str | None):
    monkeypatch.setattr(sys, "platform", name)
    assert platforms.host_platform() == expected
    # Another Unix keeps its folders, settings and login entries where Linux does.
    assert platforms.this_platform() == (expected or "linux")


def test_an_os_that_is_not_inspected_is_a_usage_error_naming_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "platform", "sunos5")
    with pytest.raises(UsageError, match=r"this operating system \(sunos5\) is not supported") as raised:
        platforms.running_platform()
    assert raised.value.hint is not None and "--root" in raised.value.hint
    monkeypatch.setattr(sys, "platform", "darwin")
    assert platforms.running_platform() == "macos"
