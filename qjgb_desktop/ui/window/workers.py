"""Database and file work off the UI thread: a QRunnable per job on the global pool, results back through
signals of a QObject living in the UI thread. Each job opens its own Session from the sessionmaker it is given.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives in the UI thread; the job emits from the pool thread and Qt queues the call to this thread."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, on_done: Callable[[object], None], on_failed: Callable[[Exception], None]) -> None:
        super().__init__()
        self._on_done, self._on_failed = on_done, on_failed
        self.done.connect(self._deliver_done, Qt.ConnectionType.QueuedConnection)
        self.failed.connect(self._deliver_failed, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _deliver_done(self, result) -> None:
        self._on_done(result)

    @Slot(object)
    def _deliver_failed(self, exc) -> None:
        self._on_failed(exc)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], object], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # delivered to the UI thread, which decides how to show it
            exc.__traceback_text__ = traceback.format_exc()
            self._relay.failed.emit(exc)
        else:
            self._relay.done.emit(result)


class Workers(QObject):
    """Runs callables on a thread pool and calls back in the UI thread, newest request per key winning."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._relays: set[_Relay] = set()
        self._latest: dict[str, int] = {}
        self._counter = 0

    def run(self, fn: Callable[[], object], on_done: Callable[[object], None],
            on_error: Callable[[Exception], None] | None = None, key: str | None = None) -> None:
        """Run fn() in the pool; on_done(result) or on_error(exc) in this thread. With a key, only the latest
        request of that key reports back (a quick series of selections shows the last one)."""
        self._counter += 1
        ticket = self._counter
        if key:
            self._latest[key] = ticket
        def current() -> bool:
            return key is None or self._latest.get(key) == ticket

        def finished(result) -> None:
            self._relays.discard(relay)
            if current():
                on_done(result)

        def failed(exc) -> None:
            self._relays.discard(relay)
            if not current():
                return
            if on_error is not None:
                on_error(exc)
            else:
                log.error("后台任务失败:\n%s", getattr(exc, "__traceback_text__", exc))

        relay = _Relay(finished, failed)
        self._relays.add(relay)
        self.pool.start(_Job(fn, relay))

    def busy(self) -> bool:
        return bool(self._relays)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (at close and in tests); queued results arrive on the next event loop."""
        return self.pool.waitForDone(msecs)
