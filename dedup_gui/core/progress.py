"""Progress reporting and cancellation, passed explicitly into every stage.

A stage receives a :class:`Progress` (what it reports to) and a :class:`CancelToken` (what it
checks at file or batch boundaries). Both have null defaults so every stage runs unchanged in
tests, the CLI and the GUI.

The pipeline splits one overall progress into weighted stages with :meth:`Progress.stage`; the
sink (a terminal bar, a Qt signal) only ever sees one :class:`ProgressEvent` stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):
    """Raised inside the engine when the user cancelled the scan."""


class CancelToken:
    """A thread-safe cancellation flag (wraps :class:`threading.Event`).

    Cancel is a direct call, not a queued signal: the GUI calls :meth:`cancel` from its own
    thread while the scan runs on a worker thread.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the running work to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on cancel; return ``cancelled``."""
        return self._event.wait(timeout)


NEVER_CANCELLED = CancelToken()


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One progress report.

    Attributes:
        stage: Machine name of the current stage (``discover``, ``decode`` ...).
        label: Human text for the stage ("Reading videos").
        done: Units finished in this stage.
        total: Units in this stage, or 0 when unknown.
        fraction: Overall completion of the whole job, 0..1.
        item: The file or item being worked on, if any.
        elapsed: Seconds since the job started.
        eta: Estimated seconds left for the whole job, or None when not yet known.
    """

    stage: str
    label: str
    done: int
    total: int
    fraction: float
    item: str = ""
    elapsed: float = 0.0
    eta: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]

# Stage weights: the share of the overall bar each stage takes. Decoding and embedding dominate
# the cost of a cold scan; the rest is quick.
DEFAULT_WEIGHTS: dict[str, float] = {
    "discover": 0.03,
    "hash": 0.04,
    "model": 0.0,
    "features": 0.83,
    "match": 0.10,
}

STAGE_LABELS: dict[str, str] = {
    "discover": "Finding videos",
    "hash": "Checking identical files",
    "model": "Preparing the analysis model (first use only)",
    "features": "Reading and analysing videos",
    "match": "Comparing videos",
    "library": "Loading the analysed library",
    "search": "Searching the library",
}


class Progress:
    """Weighted progress over named stages, forwarded to a callback.

    Args:
        callback: Receives :class:`ProgressEvent` values; ``None`` discards them.
        weights: Relative weight of each stage; unknown stages get no share of the bar.
        min_interval: Minimum seconds between forwarded events (stage changes and the final
            event of a stage are always forwarded). Keeps the GUI at ~10 updates a second.
    """

    def __init__(
        self,
        callback: ProgressCallback | None = None,
        weights: dict[str, float] | None = None,
        min_interval: float = 0.1,
    ) -> None:
        self._callback = callback
        weights = dict(weights or DEFAULT_WEIGHTS)
        total = sum(weights.values()) or 1.0
        self._weights = {k: v / total for k, v in weights.items()}
        self._order = list(weights)
        self._min_interval = min_interval
        self._start = time.monotonic()
        self._last_emit = 0.0
        self._stage = ""
        self._done_before = 0.0  # overall fraction of completed stages
        self._lock = threading.Lock()

    def stage(self, name: str) -> None:
        """Start stage ``name``; earlier stages in the weight order count as complete."""
        with self._lock:
            self._stage = name
            if name in self._order:
                idx = self._order.index(name)
                self._done_before = sum(self._weights[s] for s in self._order[:idx])
        self.update(0, 0, force=True)

    def update(self, done: int, total: int, item: str = "", *, force: bool = False) -> None:
        """Report ``done`` of ``total`` units in the current stage."""
        if self._callback is None:
            return
        now = time.monotonic()
        finished = total > 0 and done >= total
        with self._lock:
            if not (force or finished) and now - self._last_emit < self._min_interval:
                return
            self._last_emit = now
            stage = self._stage
            share = self._weights.get(stage, 0.0)
            inner = done / total if total > 0 else 0.0
            fraction = min(1.0, self._done_before + share * inner)
        elapsed = now - self._start
        eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 and elapsed > 1.0 else None
        self._callback(
            ProgressEvent(
                stage=stage,
                label=STAGE_LABELS.get(stage, stage),
                done=done,
                total=total,
                fraction=fraction,
                item=item,
                elapsed=elapsed,
                eta=eta,
            )
        )


NULL_PROGRESS = Progress(None)
