"""The compare view: two files of a group side by side.

Shows frames of both files at aligned moments, the frame-to-frame similarity matrix as a
heatmap (which parts match: a bright diagonal is the same footage; a shifted one an offset; a
short segment a clip), and their metadata with differences highlighted. The matrix comes from
:func:`dedup_gui.core.match.inspect.pair_details`, computed off the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import CancelToken
from dedup_gui.core.review.thumbnails import ThumbSource
from dedup_gui.core.types import GroupMember
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui import theme
from dedup_gui.ui.compare_widgets import ALIGNED_FRAMES, FramePairs, Heatmap
from dedup_gui.ui.tasks import Task
from dedup_gui.ui.thumbnails import StripKey, ThumbnailLoader

FRAME_SIDE = 360


def metadata_rows(a: GroupMember, b: GroupMember) -> list[tuple[str, str, str]]:
    """(label, A, B) rows for the metadata table."""
    fa, fb = a.file, b.file
    pa, pb = fa.probe, fb.probe

    def probe_value(p, attr: str) -> str:
        if p is None:
            return ""
        if attr == "duration":
            return fmt.duration(p.duration)
        if attr == "resolution":
            return fmt.resolution(p.width, p.height)
        if attr == "fps":
            return fmt.fps(p.fps)
        if attr == "bitrate":
            return fmt.bitrate(p.bitrate)
        if attr == "has_audio":
            return "yes" if p.has_audio else "no"
        if attr == "rotation":
            return f"{p.rotation}°"
        return str(getattr(p, attr))

    rows = [
        ("Name", fa.name, fb.name),
        ("Folder", os.fsdecode(fa.path.parent), os.fsdecode(fb.path.parent)),
        ("Size", fmt.size(fa.size), fmt.size(fb.size)),
    ]
    for label, attr in (
        ("Duration", "duration"),
        ("Resolution", "resolution"),
        ("Frame rate", "fps"),
        ("Codec", "codec"),
        ("Container", "container"),
        ("Bitrate", "bitrate"),
        ("Audio", "has_audio"),
        ("Rotation", "rotation"),
    ):
        rows.append((label, probe_value(pa, attr), probe_value(pb, attr)))
    rows.append(("Modified", fmt.mtime(fa.mtime_ns), fmt.mtime(fb.mtime_ns)))
    return rows


class CompareDialog(QDialog):
    """Two files side by side (non-modal; closes its worker when closed).

    Signals:
        not_duplicate(Path, Path): The user said these two are not duplicates.
        play(Path): Open a file in the system player.
    """

    not_duplicate = Signal(Path, Path)
    play = Signal(Path)

    def __init__(
        self,
        a: GroupMember,
        b: GroupMember,
        options: ScanOptions,
        embedder: Callable[[], Embedder],
        loader: ThumbnailLoader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare — {a.file.name} ↔ {b.file.name}")
        self.setObjectName("compareDialog")
        self.resize(1180, 860)
        self.a, self.b = a, b
        self._loader = loader
        self._keys: tuple[StripKey | None, StripKey | None] = (None, None)
        self._pick_keys: tuple[StripKey | None, StripKey | None] = (None, None)
        self.details = None
        loader.ready.connect(self._on_thumbs)

        self.summary = QLabel("Analysing both files…")
        self.summary.setObjectName("compareSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.heatmap = Heatmap()
        self.heatmap.picked.connect(self._on_pick)
        heat_caption = QLabel(
            "Frame-to-frame similarity (bright = same picture). A bright diagonal is the same "
            "footage; the dots are the matched time line. Click a cell to see its two frames."
        )
        heat_caption.setWordWrap(True)
        heat_caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.heatmap, 1)
        lv.addWidget(heat_caption)

        self.picked = FramePairs(side_by_side=True)
        self.picked.set_pairs((), (), "Click the heatmap to compare two frames")
        picked_caption = QLabel("The frame pair under the red circle")
        picked_caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("compareMetadata")
        self.table.setHorizontalHeaderLabels(["", "A", "B"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self._fill_table()
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(picked_caption)
        rv.addWidget(self.picked)
        rv.addWidget(self.table, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 640])

        self.aligned = FramePairs()
        self.aligned.setObjectName("alignedFrames")
        self.aligned.set_pairs((), (), "Finding matching moments…")

        self.not_dup_button = QPushButton("Not a duplicate")
        self.not_dup_button.setToolTip("Never group these two files again")
        self.not_dup_button.clicked.connect(self._on_not_duplicate)
        play_a = QPushButton("Play A")
        play_a.clicked.connect(lambda: self.play.emit(self.a.file.path))
        play_b = QPushButton("Play B")
        play_b.clicked.connect(lambda: self.play.emit(self.b.file.path))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.not_dup_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(play_a, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(play_b, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        for button in (self.not_dup_button, play_a, play_b):
            button.setAutoDefault(False)  # Return must never say "not a duplicate"
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.aligned)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)

        self.task = Task("dedup-compare", self)
        self.task.finished.connect(self._on_details)
        self.task.failed.connect(self._on_failed)
        pa, pb = a.file.path, b.file.path
        opts = options.replace(decode_workers=1)

        def run(token: CancelToken):
            from dedup_gui.core.match.inspect import pair_details

            return pair_details(pa, pb, opts, embedder(), token=token)

        self.task.start(run)

    # ---------------------------------------------------------------- results
    def _fill_table(self) -> None:
        rows = metadata_rows(self.a, self.b)
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, (label, va, vb) in enumerate(rows):
            differs = va != vb and label not in ("Name",)
            for c, text in enumerate((label, va, vb)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if differs and c > 0:
                    item.setBackground(QBrush(theme.DIFF))
                    item.setFont(bold)
                if c == 0:
                    item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + 4
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setMinimumHeight(height)

    def differing_rows(self) -> list[str]:
        """Labels of the metadata rows that differ (highlighted)."""
        out = []
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 1)
            if item is not None and item.font().bold():
                out.append(self.table.item(r, 0).text())
        return out

    def _on_details(self, details) -> None:
        self.details = details
        m = details.match
        ev = m.evidence_a
        parts = [
            f"<b>{fmt.percent(m.similarity)}</b> similar",
            f"A covered {fmt.percent(m.coverage_a)}, B covered {fmt.percent(m.coverage_b)}",
            "verified frame by frame" if m.verified else "<i>not verified</i>",
        ]
        if abs(ev.offset) >= 0.5:
            parts.append(
                f"B starts {abs(ev.offset):.1f} s {'into' if ev.offset > 0 else 'before'} A"
            )
        if ev.flipped:
            parts.append("mirrored")
        if abs(ev.speed - 1.0) > 0.03:
            parts.append(f"speed ×{ev.speed:.2f}")
        self.summary.setText(" · ".join(parts))
        short = max(details.probe_a.duration, details.probe_b.duration) < 60
        self.heatmap.fine = self.aligned.fine = self.picked.fine = short
        self.heatmap.set_data(details.matrix, details.times_a, details.times_b, details.aligned)
        aligned = np.asarray(details.aligned).reshape(-1, 2)
        if len(aligned) == 0:
            self.aligned.set_pairs((), (), "No matching moments were found")
            return
        pick = np.unique(
            np.linspace(0, len(aligned) - 1, min(ALIGNED_FRAMES, len(aligned))).round().astype(int)
        )
        ta = tuple(round(float(details.times_a[aligned[k, 0]]), 3) for k in pick)
        tb = tuple(round(float(details.times_b[aligned[k, 1]]), 3) for k in pick)
        self.aligned.set_pairs(ta, tb)
        self._keys = (self._key(self.a, ta), self._key(self.b, tb))
        self._on_thumbs(None)
        i, j = aligned[pick[len(pick) // 2]]
        self.heatmap.selected = (int(i), int(j))
        self._on_pick(int(i), int(j))

    def _key(self, m: GroupMember, times: tuple[float, ...]) -> StripKey:
        f = m.file
        return StripKey(ThumbSource(f.path, f.size, f.mtime_ns), times, FRAME_SIDE)

    def _on_pick(self, i: int, j: int) -> None:
        d = self.details
        if d is None:
            return
        ta = (round(float(d.times_a[i]), 3),)
        tb = (round(float(d.times_b[j]), 3),)
        self.picked.set_pairs(ta, tb)
        self._pick_keys = (self._key(self.a, ta), self._key(self.b, tb))
        self._on_thumbs(None)

    def _on_thumbs(self, _key: object) -> None:
        for keys, widget in ((self._keys, self.aligned), (self._pick_keys, self.picked)):
            ka, kb = keys
            if ka is None or kb is None:
                continue
            widget.set_frames(self._loader.request(ka), self._loader.request(kb))

    def _on_failed(self, error: object) -> None:
        self.summary.setText(f"<b>Cannot compare these files:</b> {error}")
        self.aligned.set_pairs((), (), "")

    def stop(self, reason: str) -> None:
        """Stop a running analysis (a scan is about to use the model)."""
        if self.task.running:
            self.task.shutdown()
            self.summary.setText(f"<b>Analysis stopped:</b> {reason}")
            self.aligned.set_pairs((), (), "")

    def _on_not_duplicate(self) -> None:
        self.not_duplicate.emit(self.a.file.path, self.b.file.path)
        self.accept()

    def done(self, result: int) -> None:
        """Stop the analysis when the dialog closes."""
        self.task.shutdown()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: D102
        self.task.shutdown()
        super().closeEvent(event)
