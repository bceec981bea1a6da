"""A time limit for every check, through pytest-timeout, that ends in a teaching message.

Part of the kit: no need to edit. pytest-timeout reads the limit (`timeout` in
exercises/pytest.ini, `--timeout`, or a check's @pytest.mark.timeout) and asks this module to
set the timer. Instead of dumping stacks (signal method) or ending the whole run (thread
method), the check fails with CheckTimeout where the code was looping, so the report says
what ran too long and where. On Windows, which has no SIGALRM, a timer thread interrupts the
main thread and the interruption is turned into the same failure.
"""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Callable, Generator
from typing import Any

import pytest

from _kit.explain import CheckTimeout

_CANCEL = pytest.StashKey[Callable[[], None]]()
_FIRED = pytest.StashKey[tuple[threading.Event, float]]()


def _debugging(settings: Any) -> bool:
    """True when a debugger is active: pytest-timeout then lets the check run."""
    if settings.disable_debugger_detection:
        return False
    from pytest_timeout import is_debugging

    return bool(is_debugging())


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool:
    """Start the check's timer: SIGALRM where there is one, else a timer thread."""
    if settings.method == "signal" and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        def expire(signum: int, frame: Any) -> None:
            if not _debugging(settings):
                raise CheckTimeout(settings.timeout)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, settings.timeout)

        def cancel() -> None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

        item.stash[_CANCEL] = cancel
        return True
    fired, lock, done = threading.Event(), threading.Lock(), [False]

    def interrupt() -> None:
        with lock:
            if not done[0] and not _debugging(settings):
                fired.set()
                _thread.interrupt_main()

    timer = threading.Timer(settings.timeout, interrupt)
    timer.daemon = True
    timer.start()

    def stop() -> None:
        with lock:
            done[0] = True
        timer.cancel()

    item.stash[_CANCEL], item.stash[_FIRED] = stop, (fired, settings.timeout)
    return True


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool:
    """Stop the check's timer."""
    cancel = item.stash.get(_CANCEL, None)
    if cancel is not None:
        cancel()
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Turn the timer thread's interruption into a timeout of this check (not the end of the run)."""
    try:
        return (yield)
    except KeyboardInterrupt as interruption:
        fired, seconds = item.stash.get(_FIRED, (None, 0.0))
        if fired is None or not fired.is_set():
            raise
        raise CheckTimeout(seconds).with_traceback(interruption.__traceback__) from None
