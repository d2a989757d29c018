"""The one HTTPS client. Every request clientcheck makes (the rule file and its signature at login, the
vendors' feeds for ``rules generate``, the reports a collector is sent) goes through ``send``, under the
same safety rules, with a ``Policy`` for what rightly differs between callers (``messages``).

The rules, the same for every caller:

- **Verified**: certificates are checked, against a CA bundle when one is given (the policy's, else
  ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` as requests would take it), which must be a regular file of
  reasonable size: requests opens it with a plain ``open()``, and a FIFO there would hang the run.
- **https only**, plain http only to this machine, judged from the parsed address (``urls.check``) at every
  hop. This machine is never reached through a proxy; other addresses go through the environment's
  (``HTTPS_PROXY``, ``NO_PROXY``). Nothing is taken from ``~/.netrc``: a request carries the headers its
  caller gave it, and an ``Authorization`` header never follows a redirect to another origin.
- **Redirects**: at most five, each address judged like the first, never from https to http. A 303 is
  followed with a GET and no body, as RFC 9110 (15.4.4) says; 301, 302, 307 and 308 repeat the request
  as it was, method and body (browsers turn a POST into a GET on 301 and 302; a report sent that way
  would be silently lost).
- **Uncompressed answers**: ``Accept-Encoding: identity``, and a compressed answer is refused all the same,
  so the size cap and ``Content-Length`` count the same bytes and no small answer unpacks into a huge
  one. A body over the policy's cap, or shorter than its ``Content-Length``, is an error.
- **Time**: connect and read timeouts, and a deadline over the whole exchange (name lookup, connection,
  redirects, headers, body, retries and their waits). The blocking work runs in a helper thread that is
  abandoned when the deadline passes, because a server can trickle its headers a byte at a time, each
  within the read timeout.

Every answer that arrives is a ``Response``, 4xx and 5xx included; ``FetchError`` is for a request that
got none that can be used. ``requests`` is imported only when a request is made.
"""

from __future__ import annotations

from clientcheck.net.messages import FetchError, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from clientcheck import dates as dt
    from clientcheck.net.messages import Policy, Request

MAX_REDIRECTS = 5
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024  # the system's whole bundle is about 200 KiB
RETRYABLE = frozenset((429, 503))
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_BODY_HEADERS = frozenset(("content-type", "content-encoding", "content-length"))
_CHUNK = 65536


def send(
    request: Request,
    policy: Policy,
    *,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Response:
    """The server's answer to ``request`` under ``policy``, within ``policy.deadline`` seconds in all; a
    429 or 503 is asked again up to ``policy.retries`` times, after the wait its Retry-After asks (bounded
    by the policy, and only when the wait ends before the deadline). ``sleep`` and ``clock`` are seams
    for tests. Raises ``FetchError`` when no usable answer came."""
    import time

    url = _checked(request.url)  # from here on, as urllib3 reads it (and the request is made)
    verify = _trust(policy.ca_bundle, url)
    pause = sleep or time.sleep
    started = time.monotonic()
    asked = request.replace(url=url)
    retries = 0
    while True:
        left = policy.deadline - (time.monotonic() - started)
        response = _in_time(lambda: _exchange(asked, policy, verify, started), left, url, policy)
        if response.status in RETRYABLE and retries < policy.retries:
            wait = policy.retry_wait(response.header("retry-after"), clock() if clock else None)
            if time.monotonic() - started + wait < policy.deadline:
                retries += 1
                pause(wait)
                continue
        return response.replace(retries=retries)


def redirect_target(current: str, location: str | None) -> str:
    """Where a redirect from ``current`` leads, as the request is made: judged like any address, and never
    from https to anything else. Raises ``FetchError`` naming ``current``."""
    from urllib.parse import urljoin

    from clientcheck.net.urls import URLError, check

    if not location:
        raise FetchError(current, "redirect without a Location header")
    try:
        target = urljoin(current, location)
    except ValueError:
        raise FetchError(current, f"redirect to a malformed address {location!r}") from None
    if _scheme(current) == "https" and _scheme(target) != "https":
        raise FetchError(current, f"refused a redirect from https to {target}")
    try:
        return check(target).text
    except URLError as refused:
        raise FetchError(current, f"refused a redirect to {target}: {refused}") from None


def error_reason(error: BaseException) -> str:
    """The innermost, most telling part of a requests error, on one line."""
    text = str(error.args[0] if error.args else error)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return " ".join(text.strip("()'\" ").split())[:200] or type(error).__name__


def _checked(url: str) -> str:
    from clientcheck.net.urls import URLError, check

    try:
        return check(url).text
    except URLError as refused:
        raise FetchError(url, str(refused)) from None


def _scheme(url: str) -> str:
    from clientcheck.net.urls import URLError, parse

    try:
        return parse(url).scheme
    except URLError:
        return ""


def _origin(url: str) -> tuple[str, str, int | None]:
    from clientcheck.net.urls import parse

    parsed = parse(url)
    return parsed.scheme, parsed.host, parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)


def _trust(ca_bundle: str | None, url: str) -> str | bool:
    """What requests verifies certificates with: a CA bundle, checked first, or True (its own)."""
    import os

    from clientcheck.reading import FileProblem, check_file

    # With trust_env off (see _exchange), requests no longer reads these two itself: they are read here,
    # as it would, so an admin's REQUESTS_CA_BUNDLE still counts, and is checked like the policy's bundle.
    for label, path in (
        ("CA bundle", ca_bundle),
        ("REQUESTS_CA_BUNDLE", os.environ.get("REQUESTS_CA_BUNDLE")),
        ("CURL_CA_BUNDLE", os.environ.get("CURL_CA_BUNDLE")),
    ):
        if path:
            try:
                check_file(path, MAX_CA_BUNDLE_BYTES, settings=True)  # who writes it may intercept
            except FileProblem as problem:
                raise FetchError(url, f"{label} {path}: {problem.reason}") from None
            return path
    return True


def _proxies(url: str) -> dict[str, str]:
    """The environment's proxies for ``url`` (honouring NO_PROXY); none for this machine."""
    from clientcheck.net.urls import is_loopback, parse

    if is_loopback(parse(url).host):
        return {}
    from requests.utils import get_environ_proxies

    return dict(get_environ_proxies(url, no_proxy=None))


def _in_time(work: Callable[[], Response], seconds: float, url: str, policy: Policy) -> Response:
    """``work()`` run in a helper thread, abandoned after ``seconds``."""
    import threading

    outcome: list[Response | BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run, name="clientcheck-https", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if not outcome:
        raise FetchError(url, f"too slow (no complete answer after {policy.deadline:g} s)")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _exchange(request: Request, policy: Policy, verify: str | bool, started: float) -> Response:
    """One request and its redirects, blocking: the answer, its body read under the policy."""
    import requests
    from requests.structures import CaseInsensitiveDict

    from clientcheck import __version__

    method, url, body = request.method.upper(), request.url, request.body
    requested = url
    headers = CaseInsensitiveDict(dict(request.headers))
    headers["User-Agent"] = f"clientcheck/{__version__} ({policy.purpose})"
    headers["Accept-Encoding"] = "identity"
    with requests.Session() as http:
        # Proxies and the CA bundle are taken from the environment here (_proxies, _trust), and credentials
        # from ~/.netrc never: with trust_env, requests would put them in place of an Authorization header.
        http.trust_env = False
        for _hop in range(MAX_REDIRECTS + 1):
            where = url if url == requested else f"{url} (redirected from {requested})"
            try:
                answer = http.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    stream=True,
                    allow_redirects=False,
                    verify=verify,
                    proxies=_proxies(url),
                )
            except (requests.exceptions.RequestException, OSError, ValueError) as error:
                # OSError: requests' own for an unreadable CA bundle; ValueError: an address it cannot use
                raise FetchError(where, _failure(error, policy)) from None
            with answer:
                if answer.status_code not in _REDIRECTS:
                    return _answer(answer, url, requested, where, method, policy, started)
                try:
                    target = redirect_target(url, answer.headers.get("Location"))
                except FetchError as refused:
                    raise FetchError(where, refused.reason) from None
            if answer.status_code == 303 and method != "HEAD":
                method, body = "GET", None
                for name in _BODY_HEADERS:
                    headers.pop(name, None)
            if _origin(target) != _origin(url):
                headers.pop("Authorization", None)
            url = target
    raise FetchError(requested, f"more than {MAX_REDIRECTS} redirects")


def _failure(error: BaseException, policy: Policy) -> str:
    import requests

    reason = error_reason(error)
    if isinstance(error, requests.exceptions.SSLError):
        text = str(error)
        untrusted = "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text
        return f"{'TLS certificate not trusted' if untrusted else 'TLS failed'} ({reason})"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"timed out: no connection within {policy.connect_timeout:g} s"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"timed out: no answer within {policy.read_timeout:g} s"
    if isinstance(error, requests.exceptions.ProxyError):
        return f"the proxy failed: {reason}"
    if isinstance(error, requests.exceptions.ConnectionError):
        broke = "Connection aborted" in str(error)
        return f"{'the connection broke' if broke else 'cannot connect'}: {reason}"
    return reason


def _answer(
    answer: requests.Response,
    url: str,
    requested: str,
    where: str,
    method: str,
    policy: Policy,
    started: float,
) -> Response:
    status = answer.status_code
    body = b""
    wanted = 200 <= status < 300 or (status >= 400 and policy.error_bodies)
    if wanted and method != "HEAD" and status not in (204, 205):
        kind = answer.headers.get("Content-Type", "")
        if 200 <= status < 300 and policy.content_types is not None and not _allowed(kind, policy.content_types):
            named = "JSON" if "application/json" in policy.content_types else " or ".join(policy.content_types)
            raise FetchError(where, f"served as {kind or 'no content type'!r}, not {named}")
        coding = answer.headers.get("Content-Encoding", "").strip().lower()
        if coding not in ("", "identity"):
            raise FetchError(where, f"answered {coding}-compressed, though only an uncompressed answer was asked for")
        body = _read_body(answer, where, policy, started)
    return Response(url, requested, status, answer.reason or "", answer.headers.items(), body)


def _allowed(content_type: str, allowed: tuple[str, ...]) -> bool:
    """Whether a Content-Type header names one of the ``allowed`` media types (``application/*+json``
    stands for every JSON-based one; "" for none given)."""
    media = content_type.split(";")[0].strip().lower()
    structured = media.startswith("application/") and media.endswith("+json")
    return media in allowed or (structured and "application/*+json" in allowed)


def _read_body(answer: requests.Response, where: str, policy: Policy, started: float) -> bytes:
    import time

    cap = policy.max_bytes
    declared = answer.headers.get("Content-Length", "").strip()
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and few enough for int() (4300 at most).
    length = int(declared) if declared.isascii() and declared.isdigit() and len(declared) <= 18 else None
    if length is None and declared.isascii() and declared.isdigit():
        raise FetchError(where, f"a Content-Length of {len(declared)} digits, more than the {cap} bytes allowed")
    if length is not None and length > cap:
        raise FetchError(where, f"{length} bytes, more than the {cap} allowed")
    chunks: list[bytes] = []
    size = 0
    while chunk := _read_some(answer, where, policy, size, length):
        size += len(chunk)
        if size > cap:
            raise FetchError(where, f"more than the {cap} bytes allowed")
        if time.monotonic() - started > policy.deadline:
            raise FetchError(where, f"too slow (not complete after {policy.deadline:g} s)")
        chunks.append(chunk)
    if length is not None and size != length:
        raise FetchError(where, f"the body was cut short (truncated after {size} of {length} bytes)")
    return b"".join(chunks)


def _read_some(answer: requests.Response, where: str, policy: Policy, size: int, length: int | None) -> bytes:
    """What has arrived of the body (b"" at its end). read1, not read: a server that trickles a byte at a
    time, each within the read timeout, is then caught by the deadline instead of holding the run."""
    try:
        chunk: bytes = answer.raw.read1(_CHUNK, decode_content=False)
    except Exception as error:  # urllib3's own (IncompleteRead, ProtocolError, ReadTimeoutError)
        if "timed out" in str(error).lower():
            raise FetchError(where, f"timed out: nothing received for {policy.read_timeout:g} s") from None
        got = f"after {size} of {length} bytes" if length is not None else f"after {size} bytes"
        raise FetchError(where, f"the body was cut short (truncated {got}: {error_reason(error)})") from None
    return chunk
