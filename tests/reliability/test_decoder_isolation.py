"""Decoder processes: a hung decoder costs one time budget, a crashing one one problem."""

from __future__ import annotations

import multiprocessing

from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.scan.discovery import discover
from dedup_gui.core.scan.workers import DecodePool
from dedup_gui.core.types import Problem
from tests import media as M
from tests.faults import write_mp4


def _lib(tmp_path, names):
    for i, name in enumerate(names):
        write_mp4(tmp_path / name, M.Scene(50 + i).frames(1))
    return list(discover([tmp_path]).files)


def test_hanging_file_is_skipped_when_its_budget_runs_out(tmp_path):
    files = _lib(tmp_path, ["a.mp4", "hang.mp4", "b.mp4", "c.mp4"])
    with DecodePool("tests.faults:HangingBackend", SamplingOptions(), 2, timeout=2.0) as pool:
        out = {f.path.name: r for f, r in pool.imap(files)}
    assert isinstance(out["hang.mp4"], Problem)
    assert out["hang.mp4"].reason == "decoding took longer than the 2 s budget; skipped"
    for name in ("a.mp4", "b.mp4", "c.mp4"):  # the other worker (and the replacement) went on
        assert not isinstance(out[name], Problem), out[name]
    assert not multiprocessing.active_children()


def test_budget_starts_when_the_worker_is_up(tmp_path):
    """A short budget is not eaten by the worker's start-up (imports take a second or more,
    longer on a busy machine); decoding one of these tiny files takes a few milliseconds."""
    files = _lib(tmp_path, ["a.mp4", "b.mp4"])
    with DecodePool("pyav", SamplingOptions(), 2, timeout=1.0) as pool:
        out = [r for _, r in pool.imap(files)]
    assert not any(isinstance(r, Problem) for r in out), out


def test_crashing_decoder_costs_one_problem(tmp_path):
    files = _lib(tmp_path, ["a.mp4", "crash.mp4", "b.mp4"])
    with DecodePool("tests.faults:CrashingBackend", SamplingOptions(), 1, timeout=30) as pool:
        out = {f.path.name: r for f, r in pool.imap(files)}
    assert isinstance(out["crash.mp4"], Problem)
    assert out["crash.mp4"].reason == "decoder crashed on this file (exit code 3)"
    assert not isinstance(out["a.mp4"], Problem) and not isinstance(out["b.mp4"], Problem)
    assert not multiprocessing.active_children()
