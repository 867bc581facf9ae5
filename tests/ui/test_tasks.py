"""The worker-thread task: results on the GUI thread, errors carried back, cancel, shutdown."""

from __future__ import annotations

import threading
import time

from dedup_gui.ui.tasks import Task


def test_result_arrives_on_the_gui_thread_after_the_thread_stopped(qtbot):
    task = Task("t")
    ran_on = []
    got = []
    task.finished.connect(lambda r: got.append((r, threading.current_thread(), task.running)))
    with qtbot.waitSignal(task.finished, timeout=5000):
        task.start(lambda token: ran_on.append(threading.current_thread()) or 42)
    assert got == [(42, threading.main_thread(), False)]
    assert ran_on[0] is not threading.main_thread()


def test_errors_are_carried_back(qtbot):
    task = Task("t")
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start(lambda token: 1 / 0)
    assert isinstance(blocker.args[0], ZeroDivisionError)


def test_shutdown_cancels_and_waits_without_delivering(qtbot):
    task = Task("t")
    started = threading.Event()
    delivered = []
    task.finished.connect(delivered.append)

    def work(token):
        started.set()
        while not token.cancelled:
            time.sleep(0.01)
        return "stopped"

    task.start(work)
    assert started.wait(5)
    t0 = time.monotonic()
    task.shutdown()
    assert time.monotonic() - t0 < 1.0
    assert not task.running
    qtbot.wait(20)
    assert delivered == []
