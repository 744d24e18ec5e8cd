"""A progress line on stderr for runs long enough to make a person wonder."""

from __future__ import annotations

import threading
from typing import IO


class Progress:
    """`checking images: 12/40` on stderr, only on a terminal and only once a run has taken over a second."""

    DELAY = 1.0
    INTERVAL = 0.2

    def __init__(self, total: int, stream: IO[str], label: str = "checking images", growing: bool = False):
        """`growing`: the total is not known yet and grows with `add` (the bar is shown anyway on a terminal)."""
        self.total = total
        self.stream = stream
        self.label = label
        self.enabled = (total > 0 or growing) and _isatty(stream)
        self.finished = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def add(self, count: int = 1) -> None:
        """Count more work to do (found while running)."""
        self.total += count

    def done(self, *_: object) -> None:
        self.finished += 1  # the GIL makes += on an int from callbacks good enough for a progress count

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="ncr-progress", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        if self._stop.wait(self.DELAY):
            return
        while not self._stop.is_set():
            self.stream.write(f"\r{self.label}: {bar(self.finished, self.total)} {self.finished}/{self.total}")
            self.stream.flush()
            self._shown = True
            self._stop.wait(self.INTERVAL)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._shown:
            self.stream.write("\r\033[K")  # erase the line so the report starts clean
            self.stream.flush()


def bar(finished: int, total: int, width: int = 20) -> str:
    """`[#######-------------]`: how much of `total` is done."""
    filled = width * min(finished, total) // total if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

