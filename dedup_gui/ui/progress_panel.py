"""The progress line under the results: stage, bar, Cancel, current file and time left."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from dedup_gui.core.progress import ProgressEvent
from dedup_gui.ui import formatting as fmt


class ProgressPanel(QWidget):
    """Shows a scan's or a file action's progress (hidden while nothing runs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressPanel")
        self.stage_label = QLabel()
        self.stage_label.setObjectName("stageLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the scan; what was analysed stays cached (Esc)")
        self.item_label = QLabel()
        self.item_label.setObjectName("itemLabel")
        self.item_label.setMinimumWidth(100)
        self.time_label = QLabel()
        self.time_label.setObjectName("timeLabel")
        top = QHBoxLayout()
        top.addWidget(self.stage_label)
        top.addWidget(self.progress_bar, 1)
        top.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.item_label, 1)
        bottom.addWidget(self.time_label)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 6, 0, 0)
        v.addLayout(top)
        v.addLayout(bottom)
        self.hide()

    def start(self, stage: str) -> None:
        """Begin a new run: empty bar, ``stage`` as the label."""
        self.progress_bar.setValue(0)
        self.stage_label.setText(stage)
        self.item_label.clear()
        self.time_label.clear()

    def show_event(self, ev: ProgressEvent) -> None:
        """A scan's progress: stage and counts, the current file, elapsed and time left."""
        self.progress_bar.setValue(int(ev.fraction * 1000))
        if ev.total:
            unit = "pairs" if ev.stage == "match" else "files"
            self.stage_label.setText(f"{ev.label}: {ev.done} / {ev.total} {unit}")
        else:
            self.stage_label.setText(ev.label)
        if ev.item:
            name = os.path.basename(ev.item)
            self.item_label.setText(
                self.item_label.fontMetrics().elidedText(
                    name, Qt.TextElideMode.ElideMiddle, max(100, self.item_label.width())
                )
            )
            self.item_label.setToolTip(ev.item)
        self.time_label.setText(
            f"Elapsed {fmt.clock(ev.elapsed)} · "
            + (f"about {fmt.clock(ev.eta)} left" if ev.eta is not None else "estimating time left…")
        )

    def show_download(self, done: int, total: int) -> None:
        """The model weights are downloading (first use)."""
        if total:
            self.stage_label.setText(
                f"Downloading model weights (first use): {fmt.size(done)} / {fmt.size(total)}"
            )
            self.progress_bar.setValue(int(done / total * 1000))
        else:
            self.stage_label.setText(f"Downloading model weights (first use): {fmt.size(done)}")
        self.item_label.setText("This happens once; later scans start at once.")

    def show_action_started(self, what: str) -> None:
        """A file action began."""
        self.stage_label.setText(what)
        self.progress_bar.setValue(0)
        self.item_label.clear()

    def show_action_progress(self, ev: ProgressEvent) -> None:
        """Files done by a file action."""
        if ev.total:
            self.progress_bar.setValue(int(ev.done / ev.total * 1000))
            self.item_label.setText(os.path.basename(ev.item))
