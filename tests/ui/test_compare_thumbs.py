"""Thumbnails off the GUI thread with a disk cache; the compare view on a real pair."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dedup_gui.core.review.thumbnails import ThumbnailCache, ThumbSource, strip_times
from dedup_gui.ui import thumbnails as uithumbs
from dedup_gui.ui.thumbnails import StripKey, ThumbnailLoader

pytestmark = pytest.mark.gui


def member(result, name):
    for g in result.groups:
        for m in g.members:
            if m.file.name == name:
                return g, m
    raise KeyError(name)


def test_loader_decodes_off_the_gui_thread_and_caches_on_disk(
    planted_result, tmp_path, qtbot, monkeypatch
):
    _, m = member(planted_result, "party.mp4")
    threads = []
    real = uithumbs.thumbnails

    def spy(*a, **k):
        threads.append(threading.current_thread())
        return real(*a, **k)

    monkeypatch.setattr(uithumbs, "thumbnails", spy)
    loader = ThumbnailLoader(ThumbnailCache(tmp_path / "thumbs"))
    key = StripKey(
        ThumbSource(m.file.path, m.file.size, m.file.mtime_ns),
        tuple(strip_times(m.file.probe.duration, 4)),
        96,
    )
    assert loader.request(key) is None  # scheduled, not done on the spot
    with qtbot.waitSignal(loader.ready, timeout=20_000, check_params_cb=lambda k: k == key):
        pass
    pixmaps = loader.get(key)
    assert pixmaps is not None and len(pixmaps) == 4
    assert all(p is not None and not p.isNull() and p.width() == 96 for p in pixmaps)
    img = pixmaps[1].toImage().convertToFormat(pixmaps[1].toImage().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[
        :, : img.width() * 3
    ]
    rgb = arr.reshape(img.height(), img.width(), 3).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 5  # colour, not grey
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 4
    loader.shutdown()


def test_stale_requests_are_dropped(planted_result, tmp_path, qtbot):
    loader = ThumbnailLoader(ThumbnailCache(tmp_path / "thumbs"), max_pending=2)
    loader._pool.setMaxThreadCount(1)
    keys = []
    for g in planted_result.groups:
        for m in g.members:
            keys.append(
                StripKey(ThumbSource(m.file.path, m.file.size, m.file.mtime_ns), (1.0,), 64)
            )
    done = []
    loader.ready.connect(done.append)
    for k in keys:
        loader.request(k)
    loader.cancel(keys[-1])
    loader._pool.waitForDone()
    qtbot.wait(50)
    # only the newest requests that were still wanted were decoded
    assert keys[-1] not in done
    assert keys[-2] in done
    assert len(done) < len(keys) - 1
    loader.shutdown()


def test_preview_shows_frames_of_the_selected_file(make_window, planted_result, qtbot):
    w = make_window()
    w.show_result(planted_result)
    _, m = member(planted_result, "party_4x3.mov")
    assert w.results.select_path(m.file.path)
    assert w.preview.title.text() == "party_4x3.mov"
    qtbot.waitUntil(
        lambda: (
            len(w.preview.frames.pixmaps) == 8
            and all(p is not None for p in w.preview.frames.pixmaps)
        ),
        timeout=20_000,
    )
    assert "320×240" in [
        w.preview.details.itemAt(i).widget().text() for i in range(w.preview.details.count())
    ]


def test_compare_view_shows_heatmap_aligned_frames_and_metadata_differences(
    make_window, planted_result, embedder, qtbot
):
    from dedup_gui.ui.compare import CompareDialog

    w = make_window(embedder=embedder)
    w.show_result(planted_result)
    g, small = member(planted_result, "holiday_small.mp4")
    w.results.select_path(small.file.path)
    w.act_compare.trigger()
    dialog = w.findChild(CompareDialog)
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.task.finished, timeout=60_000):
        pass
    d = dialog.details
    assert d.matrix.shape == (len(d.times_a), len(d.times_b))
    assert d.match.similarity > 0.5
    # the matched time line is a diagonal: same moments in both files
    aligned = np.asarray(d.aligned)
    assert len(aligned) >= 5
    ta, tb = d.times_a[aligned[:, 0]], d.times_b[aligned[:, 1]]
    assert np.median(np.abs(ta - tb)) < 1.0
    assert "%" in dialog.summary.text()
    assert {"Resolution", "Size"} <= set(dialog.differing_rows())
    assert "Duration" not in dialog.differing_rows()
    qtbot.waitUntil(
        lambda: (
            bool(dialog.aligned.a)
            and all(p is not None for p in dialog.aligned.a + dialog.aligned.b)
        ),
        timeout=20_000,
    )
    assert len(dialog.aligned.a) == len(dialog.aligned.ta) >= 5
    # clicking the heatmap picks a frame pair
    dialog.heatmap.resize(400, 400)
    centre = dialog.heatmap.cell_center(2, 3)
    from PySide6.QtCore import Qt

    qtbot.mouseClick(dialog.heatmap, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    assert dialog.heatmap.selected == (2, 3)
    assert dialog.picked.ta == (round(float(d.times_a[2]), 3),)

    # "not a duplicate" from the compare view hides the pair for good
    dialog.not_dup_button.click()
    assert w.ignores.has_pair(g.reference_member.file.path, small.file.path)
    assert not w.model.index_of_path(small.file.path).isValid()
