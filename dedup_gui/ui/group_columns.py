"""The results tree's columns, roles and the per-file cell values that need no model state.

Also the proxy that sorts by raw values and filters whole groups. :mod:`dedup_gui.ui.group_model`
re-exports these names.
"""

from __future__ import annotations

import os
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QFont

from dedup_gui.core.types import DuplicateGroup, GroupKind, GroupMember
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui import theme

Index = QModelIndex | QPersistentModelIndex


class Col(IntEnum):
    """Columns of the results tree."""

    NAME = 0
    THUMBS = 1
    SIMILARITY = 2
    SIZE = 3
    DURATION = 4
    RESOLUTION = 5
    BITRATE = 6
    CODEC = 7
    FPS = 8
    MODIFIED = 9
    FOLDER = 10


HEADERS = {
    Col.NAME: "Name",
    Col.THUMBS: "Frames",
    Col.SIMILARITY: "Similarity",
    Col.SIZE: "Size",
    Col.DURATION: "Duration",
    Col.RESOLUTION: "Resolution",
    Col.BITRATE: "Bitrate",
    Col.CODEC: "Codec",
    Col.FPS: "FPS",
    Col.MODIFIED: "Modified",
    Col.FOLDER: "Folder",
}

KIND_LABELS = {
    GroupKind.IDENTICAL: "identical files",
    GroupKind.NEAR_DUPLICATE: "same video",
    GroupKind.PARTIAL: "clip of a longer video",
}

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MEMBER_ROLE = Qt.ItemDataRole.UserRole + 2  # GroupMember of a file row
GROUP_ROLE = Qt.ItemDataRole.UserRole + 3  # DuplicateGroup of any row
STRIP_ROLE = Qt.ItemDataRole.UserRole + 4  # (ThumbSource, times) of a file row
STATUS_ROLE = Qt.ItemDataRole.UserRole + 5  # "keep", "reference", "marked", "" (file rows)
FILTER_ROLE = Qt.ItemDataRole.UserRole + 6  # text the filter box searches

STRIP_FRAMES = 4

NUMERIC = {Col.SIZE, Col.DURATION, Col.FPS, Col.BITRATE, Col.SIMILARITY}


def display_text(g: DuplicateGroup, i: int, m: GroupMember, col: Col) -> Any:
    """What a file row shows in a column."""
    f, p = m.file, m.file.probe
    if col == Col.NAME:
        return f.name
    if col == Col.FOLDER:
        return str(f.path.parent)
    if col == Col.SIZE:
        return fmt.size(f.size)
    if col == Col.MODIFIED:
        return fmt.mtime(f.mtime_ns)
    if col == Col.SIMILARITY:
        if i == g.reference:
            return "reference"
        text = fmt.percent(m.similarity)
        ev = m.evidence
        if ev is not None and ev.kind == GroupKind.PARTIAL:
            text += " (clip)"
        elif ev is not None and ev.flipped:
            text += " (mirrored)"
        return text
    if p is None:
        return ""
    if col == Col.DURATION:
        return fmt.duration(p.duration)
    if col == Col.RESOLUTION:
        return fmt.resolution(p.width, p.height)
    if col == Col.FPS:
        return fmt.fps(p.fps)
    if col == Col.CODEC:
        return p.codec
    if col == Col.BITRATE:
        return fmt.bitrate(p.bitrate)
    return None


def sort_value(g: DuplicateGroup, i: int, m: GroupMember, col: Col) -> Any:
    """The raw value a file row sorts by."""
    f, p = m.file, m.file.probe
    if col == Col.NAME:
        return f.name.lower()
    if col == Col.FOLDER:
        return os.fsdecode(f.path.parent).lower()
    if col == Col.SIZE:
        return f.size
    if col == Col.MODIFIED:
        return f.mtime_ns
    if col == Col.SIMILARITY:
        return 2.0 if i == g.reference else m.similarity
    if col == Col.CODEC:
        return p.codec if p else ""
    if p is None:
        return 0
    if col == Col.DURATION:
        return p.duration
    if col == Col.RESOLUTION:
        return p.pixels
    if col == Col.FPS:
        return p.fps
    if col == Col.BITRATE:
        return p.bitrate
    return 0


class GroupFilterProxy(QSortFilterProxyModel):
    """Sorting by raw values and a filter that keeps whole groups.

    A group is shown when any of its files (path, codec) or its kind contains the filter text;
    it is then shown with all its files, so a match is always seen in context.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setRecursiveFilteringEnabled(False)
        self._text = ""

    def set_text(self, text: str) -> None:
        """Filter by ``text`` (empty shows everything)."""
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self._text = text.strip().lower()
            self.endFilterChange()
        else:
            self._text = text.strip().lower()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        """Whole groups whose text contains every word of the filter."""
        if not self._text:
            return True
        if parent.isValid():
            return True  # the group was accepted, show all its files
        idx = self.sourceModel().index(row, 0, parent)
        text = str(self.sourceModel().data(idx, FILTER_ROLE) or "").lower()
        return all(word in text for word in self._text.split())

    def lessThan(self, left: Index, right: Index) -> bool:
        """Compare raw values (sizes as bytes, durations as seconds)."""
        a = self.sourceModel().data(left, SORT_ROLE)
        b = self.sourceModel().data(right, SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


def group_data(
    g: DuplicateGroup, col: Col, role: int, reclaim: int, marked: int, bold: QFont
) -> Any:
    """A group row's value for a role (``reclaim``: bytes freed; ``marked``: files marked)."""
    if role == Qt.ItemDataRole.DisplayRole:
        if col == Col.NAME:
            parts = [
                f"{len(g.members)} files",
                KIND_LABELS.get(g.kind, str(g.kind)),
                f"{fmt.size(reclaim)} to reclaim",
            ]
            low = min(m.similarity for m in g.members)
            if low < 0.995:
                parts.append(f"≥ {fmt.percent(low)} similar")
            if marked == len(g.members):
                parts.append("ALL MARKED")
            elif marked:
                parts.append(f"{marked} marked")
            return "  ·  ".join(parts)
        if col == Col.SIZE:
            return fmt.size(reclaim)
        if col == Col.SIMILARITY:
            return f"≥ {fmt.percent(min(m.similarity for m in g.members))}"
        if col == Col.DURATION:
            ref = g.reference_member.file.probe
            return fmt.duration(ref.duration) if ref else ""
        return None
    if role == SORT_ROLE:
        if col == Col.SIZE:
            return reclaim
        if col == Col.SIMILARITY:
            return min(m.similarity for m in g.members)
        if col == Col.NAME:
            return len(g.members)
        if col == Col.DURATION:
            ref = g.reference_member.file.probe
            return ref.duration if ref else 0.0
        return g.id
    if role == Qt.ItemDataRole.ToolTipRole:
        if col == Col.SIZE:
            return "Space freed by keeping only the suggested file"
        if col == Col.NAME and marked == len(g.members):
            return "Every file of this group is marked: trashing asks for a second confirmation"
        return None
    if role == Qt.ItemDataRole.FontRole and col == Col.NAME:
        return bold
    if role == STATUS_ROLE:
        return "all-marked" if marked == len(g.members) else ""
    if role == Qt.ItemDataRole.BackgroundRole and marked == len(g.members):
        return QBrush(theme.ALL_MARKED)
    if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME and marked == len(g.members):
        return theme.status_icon("warning")
    if role == FILTER_ROLE:
        return (
            " ".join(
                f"{m.file.path} {m.file.probe.codec if m.file.probe else ''}" for m in g.members
            )
            + f" {g.kind}"
        )
    return None
