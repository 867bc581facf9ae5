"""A broken installation (decoder processes that die before they are ready) stops the scan with
a clear message instead of failing every file as "decoder crashed"."""

import os
import time

import pytest

from dedup_gui.core.errors import DecoderUnavailable, ScanError
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.scan import workers
from dedup_gui.core.types import VideoFile


def _die_at_start() -> None:
    os._exit(3)


def test_decoders_that_cannot_start_stop_the_scan(monkeypatch, tmp_path):
    pool = workers.DecodePool("pyav", SamplingOptions(), workers=1, timeout=5)

    def spawn() -> workers._Slot:
        parent, child = pool._ctx.Pipe(duplex=True)
        proc = pool._ctx.Process(target=_die_at_start, daemon=True)
        proc.start()
        child.close()
        return workers._Slot(proc, parent, started=time.monotonic())

    monkeypatch.setattr(pool, "_spawn", spawn)
    files = [VideoFile(tmp_path / f"{i}.mp4", 10, 0, tmp_path) for i in range(20)]
    with pool, pytest.raises(DecoderUnavailable) as err:
        list(pool.imap(files))
    assert isinstance(err.value, ScanError)
    assert "reinstall" in str(err.value)
