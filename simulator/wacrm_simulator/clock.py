"""Simulated clock and a scheduler that fires callbacks on simulated time."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
from collections.abc import Callable


class SimClock:
    """Unix-seconds clock = start + elapsed wall time (unless frozen) + manual advances."""

    def __init__(self, start: float | None = None, frozen: bool = False):
        self._lock = threading.Lock()
        self._frozen = frozen
        self._initial = time.time() if start is None else float(start)
        self._start = self._initial
        self._mono0 = time.monotonic()
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now(self) -> float:
        with self._lock:
            elapsed = 0.0 if self._frozen else time.monotonic() - self._mono0
            return self._start + elapsed + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += float(seconds)
        for listener in list(self._listeners):
            listener()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._start = self._initial if self._frozen else time.time()
            self._mono0 = time.monotonic()
            self._offset = 0.0
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)


class Scheduler:
    """Runs callbacks when the simulated clock reaches their due time (one thread)."""

    def __init__(self, clock: SimClock, on_error: Callable[[str], None] | None = None):
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self._generation = 0
        clock.on_change(self.wake)

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="sim-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()
            self._generation += 1
            self._cond.notify_all()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        self.call_at(self.clock.now() + max(0.0, delay), fn)

    def call_at(self, due: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), fn))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                now = self.clock.now()
                if self._heap and self._heap[0][0] <= now:
                    _, _, fn = heapq.heappop(self._heap)
                else:
                    wait = 0.1
                    if self._heap and not self.clock.frozen:
                        wait = min(wait, max(0.001, self._heap[0][0] - now))
                    self._cond.wait(timeout=wait)
                    continue
            try:
                fn()
            except Exception:  # keep the scheduler alive
                if self._on_error:
                    self._on_error(traceback.format_exc())
