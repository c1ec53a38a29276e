"""Login rate limiting: failed attempts per user name and per client address, with back-off.

After ``free`` failed attempts a key (``user:<name>`` or ``ip:<address>``) is locked for
``base`` seconds, doubling with every further failure up to ``cap``; failures older than
``window`` seconds are forgotten and a successful login clears the user's count. While a key is
locked the password is not even checked, so guessing costs the same whether it is right or not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoginThrottle"]


@dataclass(slots=True)
class _Entry:
    failures: int = 0
    last: float = 0.0


@dataclass(slots=True, kw_only=True)
class LoginThrottle:
    """Failed-login counters with exponential back-off (in memory, per server process).

    Examples
    --------
    >>> now = [0.0]
    >>> t = LoginThrottle(free=2, base=10, cap=60, clock=lambda: now[0])
    >>> for _ in range(3):
    ...     t.failed("user:x")
    >>> t.wait("user:x")           # 3 failures, 2 free: 10 s after the last one
    10.0
    >>> now[0] = 10.0; t.wait("user:x")
    0.0
    """

    free: int = 5
    base: float = 30.0
    cap: float = 900.0
    window: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _entry(self, key: str, now: float) -> _Entry:
        e = self._entries.get(key)
        if e is not None and now - e.last > max(self.window, self._lockout(e.failures)):
            del self._entries[key]
            e = None
        return e or _Entry()

    def _lockout(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** (failures - self.free - 1))

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        with self._lock:
            now = self.clock()
            e = self._entry(key, now)
            return max(0.0, e.last + self._lockout(e.failures) - now)

    def failed(self, key: str) -> None:
        """Record one failed attempt of ``key``."""
        with self._lock:
            now = self.clock()
            e = self._entry(key, now)
            self._entries[key] = _Entry(failures=e.failures + 1, last=now)
            if len(self._entries) > 100_000:          # bounded memory under a flood
                oldest = sorted(self._entries, key=lambda k: self._entries[k].last)[:50_000]
                for k in oldest:
                    del self._entries[k]

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._entries.pop(key, None)
