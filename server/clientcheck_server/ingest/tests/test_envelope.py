"""The wire format: canonical content hash, bounded gzip, the envelope's checks."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid

import pytest

from clientcheck_server.ingest.envelope import Envelope, RefusedError, canonical, content_hash, decode_body


def test_the_content_hash_leaves_out_generated_at_and_report_id_and_ignores_key_order():
    report = {"schema": "clientcheck.report/1", "generated_at": "2026-11-25T09:00:00Z", "b": [1, {"y": 2, "x": "é"}]}
    same = {
        "b": [1, {"x": "é", "y": 2}],
        "schema": "clientcheck.report/1",
        "generated_at": "2027-01-01T00:00:00Z",
        "report_id": "anything",
    }
    assert content_hash(report) == content_hash(same)
    # The documented example (docs/collector-protocol.md): the exact bytes hashed.
    assert canonical({"b": [1, {"y": 2, "x": "é"}], "a": '\u001b\n"q"'}) == (
        '{"a":"\\u001b\\n\\"q\\"","b":[1,{"x":"é","y":2}]}'.encode()
    )
    expected = hashlib.sha256(b'{"b":[1,{"x":"\xc3\xa9","y":2}],"schema":"clientcheck.report/1"}').hexdigest()
    assert content_hash(report) == expected


@pytest.mark.parametrize(
    ("document", "error"),
    [({"n": 1.5}, "not_canonical"), ({"s": "\ud800"}, "not_canonical"), ({"n": float("nan")}, "not_canonical")],
)
def test_documents_without_a_canonical_form_are_refused(document, error):
    with pytest.raises(RefusedError) as refused:
        canonical(document)
    assert refused.value.error == error and refused.value.status == 422


def test_gzip_is_decoded_with_a_bound():
    body = json.dumps({"hello": "world" * 100}).encode()
    assert decode_body(gzip.compress(body), "gzip", 10_000) == body
    assert decode_body(body, "", 10) == body  # not compressed: the guard capped it already
    with pytest.raises(RefusedError) as refused:
        decode_body(gzip.compress(bytes(10_001)), "gzip", 10_000)
    assert refused.value.status == 413
    with pytest.raises(RefusedError) as refused:
        decode_body(gzip.compress(body)[:-8], "gzip", 10_000)
    assert refused.value.error == "bad_gzip"
    with pytest.raises(RefusedError) as refused:
        decode_body(gzip.compress(body) + b"junk", "gzip", 10_000)
    assert refused.value.error == "bad_gzip"
    with pytest.raises(RefusedError) as refused:
        decode_body(body, "br", 10_000)
    assert refused.value.error == "bad_encoding"


def _document(**changes):
    report = {"schema": "clientcheck.report/1", "generated_at": "2026-11-25T09:00:00Z"}
    document = {
        "envelope": "clientcheck.envelope/1",
        "report_id": str(uuid.uuid4()),
        "agent_id": str(uuid.uuid4()),
        "content_hash": content_hash(report),
        "hostname": "ws-1",
        "hints": ["a" * 64],
        "boot_id": "b",
        "agent_version": "0.1.0",
        "run_as": "machine",
        "report": report,
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"report_id": "nope"}, "report_id is not a UUID"),
        ({"agent_id": 7}, "agent_id must be a UUID string"),
        ({"hostname": ""}, "hostname must be a string"),
        ({"hostname": "ws\x1b[31m"}, "hostname contains control characters"),
        ({"hints": ["A" * 64]}, "is not a lower-case SHA-256"),
        ({"hints": ["a" * 64] * 9}, "at most 8"),
        ({"run_as": "root"}, 'run_as must be "machine" or "user"'),
        ({"content_hash": "x"}, "content_hash must be"),
        ({"report": []}, "report must be a JSON object"),
        ({"envelope": None}, '"envelope" must be'),
    ],
)
def test_the_envelope_is_checked_field_by_field(changes, reason):
    with pytest.raises(RefusedError) as refused:
        Envelope(_document(**changes))
    assert refused.value.status == 422
    assert reason in refused.value.detail


def test_a_good_envelope_normalises_hints():
    envelope = Envelope(_document(hints=["b" * 64, "a" * 64, "b" * 64], boot_id=None, run_as=None))
    assert envelope.hints == ["a" * 64, "b" * 64]
    assert (envelope.boot_id, envelope.run_as) == ("", "machine")
