"""Wall-clock limits for parsers that can spin on hostile input (pypdf above all)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class TimeUp(BaseException):  # not an error class, a control-flow signal
    """Raised when the time budget is spent.

    A BaseException on purpose: parsers such as pypdf wrap much of their work in
    ``except Exception`` and would swallow an ordinary exception raised by the alarm.
    """


class Deadline:
    """A cooperative deadline: call ``check()`` between units of work (pages, parts)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds if seconds > 0 else None

    def remaining(self) -> float | None:
        """Seconds left, or None without a limit."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def check(self) -> None:
        if self.expired():
            raise TimeUp


def _alarm_usable() -> bool:
    # SIGALRM only reaches the main thread, and we must not steal an alarm someone else set
    # (a server's or a test runner's). Otherwise we rely on cooperative checks alone.
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return False
    return signal.getitimer(signal.ITIMER_REAL)[0] == 0


@contextmanager
def time_limit(seconds: float) -> Iterator[Deadline]:
    """Budget ``seconds`` of wall-clock time; raises ``TimeUp`` when spent.

    Hard interruption (SIGALRM) where possible, plus a ``Deadline`` for cooperative checks
    that works in any thread.
    """
    deadline = Deadline(seconds)
    if seconds <= 0 or not _alarm_usable():
        yield deadline
        return

    def _on_alarm(signum: int, frame: object) -> None:
        raise TimeUp

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
