"""What the hostile-input tests ask of every parser besides its answer: that it ends, and that the memory it
takes grows with its input, not faster.

Neither is a timing test. ``ends`` turns a parser that never returns into a failure instead of a CI run that
hangs until it is killed: its limit is far beyond any real parse. ``grows_linearly`` compares the peak memory
(as tracemalloc counts Python's allocations, which include expat's and the json module's) of the same
hostile shape at two sizes: a parse linear in its input takes about four times as much for four times the
input, a quadratic one sixteen.
"""

from __future__ import annotations

import signal
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

T = TypeVar("T")

# Bounded example counts, no deadline (CI's machine is shared and slow), the same examples in CI (the
# "ci" profile in tests/conftest.py derandomizes them).
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NEVER_SECONDS = 120  # a parse of a few kilobytes takes milliseconds; this is "never returns"


class NeverEndedError(AssertionError):
    pass


@contextmanager
def ends(seconds: float = NEVER_SECONDS) -> Iterator[None]:
    """Fail, instead of hanging, when the block has not ended after ``seconds``."""

    def expire(_signal: int, _frame: Any) -> None:
        raise NeverEndedError(f"still running after {seconds} s: the parser does not end on this input")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(call: Callable[[], T], *errors: type[BaseException]) -> T | BaseException:
    """What ``call`` returns, or the error it raises if it is one of ``errors``; any other exception fails
    the test (it propagates), and so does a call that does not end."""
    with ends():
        try:
            return call()
        except errors as error:
            return error


def peak_bytes(call: Callable[[], object], *errors: type[BaseException]) -> int:
    """The peak of memory allocated while ``call`` runs (its result included), above what was before."""
    outcome(call, *errors)  # once untraced: first calls import modules and fill caches
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = outcome(call, *errors)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del result
    return peak


def grows_linearly(
    make: Callable[[int], T], parse: Callable[[T], object], size: int, *errors: type[BaseException]
) -> tuple[int, int]:
    """Assert that parsing ``make(4 * size)`` takes at most about as many times the memory of ``make(size)``
    as it is longer (one and a half times that, for the noise of small allocations); return both peaks."""
    small, large = make(size), make(4 * size)
    growth = len(large) / len(small) if isinstance(small, (bytes, str)) and isinstance(large, (bytes, str)) else 4
    small_peak = peak_bytes(lambda: parse(small), *errors)
    large_peak = peak_bytes(lambda: parse(large), *errors)
    assert large_peak <= 1.5 * growth * small_peak + 64 * 1024, (
        f"memory grows faster than the input: {small_peak} bytes for {_length(small)}, "
        f"{large_peak} bytes for {_length(large)}"
    )
    return small_peak, large_peak


def _length(value: object) -> str:
    return f"{len(value)} bytes of input" if isinstance(value, (bytes, str)) else "its input"
