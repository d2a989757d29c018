"""``clientcheck.percent`` answers as ``urllib.parse`` does, on any text, and encodes the bytes of a file name
that is not UTF-8 (where urllib raises)."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote as urllib_quote
from urllib.parse import unquote as urllib_unquote

from hypothesis import given
from hypothesis import strategies as st

from clientcheck.percent import quote, unquote

TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # str that is valid Unicode, as paths mostly are
ENCODED = st.lists(
    st.one_of(TEXT, st.sampled_from(["%", "%2", "%2F", "%e2%82", "%AC", "%zz", "%C3%A9", "%%41", "%ff"]))
).map("".join)


@given(TEXT, st.sampled_from(["/", "/:", "", "~"]))
def test_quote_is_urllibs(text: str, safe: str):
    assert quote(text, safe) == urllib_quote(text, safe=safe)


@given(ENCODED)
def test_unquote_is_urllibs(text: str):
    assert unquote(text) == urllib_unquote(text, errors="replace")


@given(TEXT)
def test_unquote_reverses_quote(text: str):
    assert unquote(quote(text)) == text


def test_a_name_that_is_not_utf8_is_encoded_byte_for_byte():
    name = os.fsdecode(b"/home/j\xfcrgen/report.html")  # Latin-1 on disk: a surrogate escape in Python
    assert quote(name) == "/home/j%FCrgen/report.html"


def test_a_login_link_does_not_import_urllib():
    code = (
        "import sys\n"
        "from clientcheck.login import file_link\n"
        "from clientcheck.notify import display_location\n"
        "link = file_link('/home/ada/.local/state/clientcheck/last report.html')\n"
        "print(link, display_location(link))\n"
        "print(sorted(name for name in ('urllib', 're', 'ipaddress') if name in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    link_line, modules = run.stdout.splitlines()
    assert link_line == (
        "file:///home/ada/.local/state/clientcheck/last%20report.html "
        "/home/ada/.local/state/clientcheck/last report.html"
    )
    assert modules == "[]"
