"""The results tree: groups, then their files (a QAbstractItemModel over core values).

Rows at the top level are duplicate groups; their children are the group's files. The model
holds the marks (checkboxes) and the suggested keeper of each group; the rules that decide them
live in :mod:`dedup_gui.core.review.selection`. Files in reference folders cannot be checked.

Child indexes carry their group's *id* (stable while rows come and go), not its row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont

from dedup_gui.core.review import selection
from dedup_gui.core.review.ignores import drop_members
from dedup_gui.core.review.thumbnails import ThumbSource, strip_times
from dedup_gui.core.types import DuplicateGroup, GroupKind, GroupMember
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui import theme
from dedup_gui.ui.group_columns import (  # re-exported: the tree's columns and roles
    FILTER_ROLE,
    GROUP_ROLE,
    HEADERS,
    KIND_LABELS,
    MEMBER_ROLE,
    NUMERIC,
    SORT_ROLE,
    STATUS_ROLE,
    STRIP_FRAMES,
    STRIP_ROLE,
    Col,
    GroupFilterProxy,
    Index,
    display_text,
    group_data,
    sort_value,
)

__all__ = [
    "FILTER_ROLE",
    "GROUP_ROLE",
    "HEADERS",
    "KIND_LABELS",
    "MEMBER_ROLE",
    "SORT_ROLE",
    "STATUS_ROLE",
    "STRIP_FRAMES",
    "STRIP_ROLE",
    "Col",
    "GroupFilterProxy",
    "GroupModel",
    "marks_of",
]


def _member_row_id(group_id: int) -> int:
    return group_id + 1


class GroupModel(QAbstractItemModel):
    """Duplicate groups and their files, with marks and suggested keepers.

    Signals:
        marks_changed(): Marks changed (counts in the status bar follow).
        groups_changed(): Groups were added, removed or reshaped.
    """

    marks_changed = Signal()
    groups_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._groups: list[DuplicateGroup] = []
        self._row_of: dict[int, int] = {}
        self._keep: dict[int, int] = {}
        self._marked: set[Path] = set()
        self._rule = selection.KeepRule.QUALITY
        self._preferred: tuple[Path, ...] = ()
        self._bold = QFont()
        self._bold.setBold(True)

    # ---------------------------------------------------------------- content
    def set_groups(self, groups: Iterable[DuplicateGroup]) -> None:
        """Show ``groups`` (marks are cleared, keepers follow the current rule)."""
        self.beginResetModel()
        self._groups = list(groups)
        self._reindex()
        self._marked.clear()
        self._keep = {
            g.id: selection.choose_keeper(g, self._rule, self._preferred) for g in self._groups
        }
        self.endResetModel()
        self.marks_changed.emit()
        self.groups_changed.emit()

    def groups(self) -> list[DuplicateGroup]:
        """The groups shown, in model order."""
        return list(self._groups)

    def group_by_id(self, gid: int) -> DuplicateGroup | None:
        """A group by id."""
        row = self._row_of.get(gid)
        return self._groups[row] if row is not None else None

    def _reindex(self) -> None:
        self._row_of = {g.id: r for r, g in enumerate(self._groups)}

    def replace_group(self, gid: int, new: DuplicateGroup | None) -> None:
        """Swap a group for a copy with fewer members, or remove it (``None``)."""
        row = self._row_of.get(gid)
        if row is None:
            return
        old = self._groups[row]
        if new is None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._groups[row]
            self._reindex()
            self._keep.pop(gid, None)
            self._marked.difference_update(old.paths)
            self.endRemoveRows()
        else:
            staying = {m.file.path for m in new.members}
            parent = self.index(row, 0)
            for i in reversed(range(len(old.members))):
                path = old.members[i].file.path
                if path in staying:
                    continue
                self.beginRemoveRows(parent, i, i)
                old = replace(
                    old, members=old.members[:i] + old.members[i + 1 :], reference=0, keep=0
                )
                self._groups[row] = old
                self._marked.discard(path)
                self.endRemoveRows()
            self._groups[row] = new
            self._keep[gid] = selection.choose_keeper(new, self._rule, self._preferred)
            self._changed_group(row)
        self.marks_changed.emit()
        self.groups_changed.emit()

    def remove_paths(self, paths: Iterable[Path]) -> None:
        """Take files out of every group (e.g. after they were trashed)."""
        gone = set(paths)
        for g in list(self._groups):
            drop = {i for i, m in enumerate(g.members) if m.file.path in gone}
            if drop:
                self.replace_group(g.id, drop_members(g, drop))

    def _changed_group(self, row: int) -> None:
        g = self._groups[row]
        parent = self.index(row, 0)
        last = len(Col) - 1
        self.dataChanged.emit(parent, self.index(row, last))
        if g.members:
            self.dataChanged.emit(
                self.index(0, 0, parent), self.index(len(g.members) - 1, last, parent)
            )

    # ---------------------------------------------------------------- keepers and marks
    @property
    def rule(self) -> selection.KeepRule:
        """The rule that picks each group's suggested keeper."""
        return self._rule

    def set_rule(self, rule: selection.KeepRule, preferred: tuple[Path, ...] = ()) -> None:
        """Choose keepers with ``rule`` (marks stay as they are)."""
        self._rule, self._preferred = rule, tuple(preferred)
        self._keep = {g.id: selection.choose_keeper(g, rule, self._preferred) for g in self._groups}
        for row in range(len(self._groups)):
            self._changed_group(row)

    def keeper(self, gid: int) -> int:
        """Index of the suggested keeper of a group."""
        return self._keep.get(gid, 0)

    def mark_all_but_keepers(self, group_ids: Iterable[int] | None = None) -> int:
        """Mark every file except each group's keeper (never a reference file).

        Returns:
            The number of marked files afterwards.
        """
        wanted = set(group_ids) if group_ids is not None else None
        for g in self._groups:
            if wanted is not None and g.id not in wanted:
                continue
            keep = self._keep.get(g.id, 0)
            for i, m in enumerate(g.members):
                if i == keep or not selection.can_mark(m):
                    self._marked.discard(m.file.path)
                else:
                    self._marked.add(m.file.path)
        self._all_marks_changed()
        return len(self._marked)

    def clear_marks(self) -> None:
        """Unmark everything."""
        self._marked.clear()
        self._all_marks_changed()

    def set_marked(self, path: Path, marked: bool) -> bool:
        """Mark or unmark one file; False when it may not be marked (reference folder)."""
        for row, g in enumerate(self._groups):
            for i, m in enumerate(g.members):
                if m.file.path == path:
                    return self.setData(
                        self.index(i, 0, self.index(row, 0)),
                        Qt.CheckState.Checked if marked else Qt.CheckState.Unchecked,
                        Qt.ItemDataRole.CheckStateRole,
                    )
        return False

    def is_marked(self, path: Path) -> bool:
        """Whether a file is marked."""
        return path in self._marked

    def marked_paths(self) -> set[Path]:
        """All marked files."""
        return set(self._marked)

    def marks(self) -> dict[int, set[int]]:
        """Marks as the core's selection functions take them: group id -> member indices."""
        out: dict[int, set[int]] = {}
        for g in self._groups:
            idx = {i for i, m in enumerate(g.members) if m.file.path in self._marked}
            if idx:
                out[g.id] = idx
        return out

    def marked_bytes(self) -> int:
        """Bytes of the marked files."""
        return sum(
            m.file.size for g in self._groups for m in g.members if m.file.path in self._marked
        )

    def reclaimable(self) -> int:
        """Bytes freed by keeping only each group's suggested keeper (reference files stay)."""
        total = 0
        for g in self._groups:
            keep = self._keep.get(g.id, 0)
            total += sum(
                m.file.size for i, m in enumerate(g.members) if i != keep and selection.can_mark(m)
            )
        return total

    def file_count(self) -> int:
        """Files in all groups."""
        return sum(len(g.members) for g in self._groups)

    def _all_marks_changed(self) -> None:
        for row, g in enumerate(self._groups):
            parent = self.index(row, 0)
            self.dataChanged.emit(parent, parent)
            if g.members:
                self.dataChanged.emit(
                    self.index(0, 0, parent),
                    self.index(len(g.members) - 1, 0, parent),
                    [Qt.ItemDataRole.CheckStateRole],
                )
        self.marks_changed.emit()

    # ---------------------------------------------------------------- navigation helpers
    def group_of(self, index: Index) -> DuplicateGroup | None:
        """The group of a group or file index."""
        if not index.isValid():
            return None
        iid = index.internalId()
        if iid == 0:
            return self._groups[index.row()] if index.row() < len(self._groups) else None
        return self.group_by_id(iid - 1)

    def member_of(self, index: Index) -> GroupMember | None:
        """The file of a file index (None for group rows)."""
        if not index.isValid() or index.internalId() == 0:
            return None
        g = self.group_of(index)
        if g is None or index.row() >= len(g.members):
            return None
        return g.members[index.row()]

    def index_of_path(self, path: Path) -> QModelIndex:
        """The NAME index of a file row."""
        for row, g in enumerate(self._groups):
            for i, m in enumerate(g.members):
                if m.file.path == path:
                    return self.index(i, 0, self.index(row, 0))
        return QModelIndex()

    # ---------------------------------------------------------------- QAbstractItemModel
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        """The index of a group (top level) or of a file (under its group)."""
        if column < 0 or column >= self.columnCount() or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._groups):
                return QModelIndex()
            return self.createIndex(row, column, 0)
        if parent.internalId() != 0 or parent.row() >= len(self._groups):
            return QModelIndex()
        g = self._groups[parent.row()]
        if row >= len(g.members):
            return QModelIndex()
        return self.createIndex(row, column, _member_row_id(g.id))

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        """The group row of a file index; invalid for groups."""
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        row = self._row_of.get(index.internalId() - 1)
        if row is None:
            return QModelIndex()
        return self.createIndex(row, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Groups at the top level, files under a group."""
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        if parent.row() >= len(self._groups):
            return 0
        return len(self._groups[parent.row()].members)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """The fixed columns."""
        return len(Col)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """Groups have files; files have nothing."""
        return self.rowCount(parent) > 0

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Col):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Col(section)]
            if role == Qt.ItemDataRole.ToolTipRole and section == Col.SIMILARITY:
                return "How closely each file matches its group's reference file"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """File rows outside reference folders are checkable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == Col.NAME:
            m = self.member_of(index)
            if m is not None and selection.can_mark(m):
                f |= Qt.ItemFlag.ItemIsUserCheckable
        if index.internalId() != 0:
            f |= Qt.ItemFlag.ItemNeverHasChildren
        return f

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Check or uncheck a file (reference files refuse)."""
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != Col.NAME:
            return False
        m = self.member_of(index)
        if m is None or not selection.can_mark(m):
            return False
        state = Qt.CheckState(value) if not isinstance(value, Qt.CheckState) else value
        if state == Qt.CheckState.Checked:
            self._marked.add(m.file.path)
        else:
            self._marked.discard(m.file.path)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        parent = index.parent()
        self.dataChanged.emit(parent, parent)
        self.marks_changed.emit()
        return True

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Display, sort, check, tooltip and custom roles."""
        if not index.isValid():
            return None
        g = self.group_of(index)
        if g is None:
            return None
        if role == GROUP_ROLE:
            return g
        if index.internalId() == 0:
            return self._group_data(g, Col(index.column()), role)
        if index.row() >= len(g.members):
            return None
        return self._member_data(g, index.row(), Col(index.column()), role)

    def _group_data(self, g: DuplicateGroup, col: Col, role: int) -> Any:
        marked = sum(1 for m in g.members if m.file.path in self._marked)
        return group_data(g, col, role, self._group_reclaimable(g), marked, self._bold)

    def _group_reclaimable(self, g: DuplicateGroup) -> int:
        keep = self._keep.get(g.id, 0)
        return sum(
            m.file.size for i, m in enumerate(g.members) if i != keep and selection.can_mark(m)
        )

    def _member_data(self, g: DuplicateGroup, i: int, col: Col, role: int) -> Any:
        m = g.members[i]
        f, p = m.file, m.file.probe
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(g, i, m, col)
        if role == SORT_ROLE:
            return sort_value(g, i, m, col)
        if role == Qt.ItemDataRole.CheckStateRole and col == Col.NAME:
            if not selection.can_mark(m):
                return None
            return Qt.CheckState.Checked if f.path in self._marked else Qt.CheckState.Unchecked
        if role == MEMBER_ROLE:
            return m
        if role == STATUS_ROLE:
            return self._status(g, i, m)
        if role == Qt.ItemDataRole.BackgroundRole:
            return _STATUS_BRUSH.get(self._status(g, i, m))
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            status = self._status(g, i, m)
            return theme.status_icon(status) if status else None
        if role == STRIP_ROLE:
            if p is None or p.duration <= 0:
                return None
            return ThumbSource(f.path, f.size, f.mtime_ns), tuple(
                strip_times(p.duration, STRIP_FRAMES)
            )
        if role == Qt.ItemDataRole.FontRole and i == self._keep.get(g.id):
            return self._bold if col == Col.NAME else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(g, i, m, col)
        if role == FILTER_ROLE:
            return str(f.path)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _status(self, g: DuplicateGroup, i: int, m: GroupMember) -> str:
        if m.file.is_reference:
            return "reference"
        if m.file.path in self._marked:
            return "marked"
        if i == self._keep.get(g.id):
            return "keep"
        return ""

    def _tooltip(self, g: DuplicateGroup, i: int, m: GroupMember, col: Col) -> str | None:
        if col == Col.NAME:
            lines = [str(m.file.path)]
            if m.file.is_reference:
                lines.append("In a reference folder: never marked for deletion")
            if i == self._keep.get(g.id):
                lines.append(f"Suggested keeper ({selection.RULE_LABELS[self._rule]})")
            return "\n".join(lines)
        if col == Col.SIMILARITY and m.evidence is not None:
            ev = m.evidence
            parts = [f"{fmt.percent(ev.score)} similar to the reference ({ev.kind})"]
            if ev.compared_frames:
                parts.append(f"{ev.matched_frames} of {ev.compared_frames} frames matched")
            if ev.kind == GroupKind.PARTIAL:
                a, b = ev.ref_range
                parts.append(f"covers {fmt.clock(a)}–{fmt.clock(b)} of the reference")
            if abs(ev.offset) >= 0.5:
                parts.append(f"offset {ev.offset:+.1f} s")
            if ev.flipped:
                parts.append("mirrored")
            if abs(ev.speed - 1.0) > 0.03:
                parts.append(f"speed ×{ev.speed:.2f}")
            return "\n".join(parts)
        return None


_STATUS_BRUSH = {
    "marked": QBrush(theme.MARKED),
    "keep": QBrush(theme.KEEP),
    "reference": QBrush(theme.REFERENCE),
}


def marks_of(model: GroupModel) -> Mapping[int, set[int]]:
    """The model's marks in the core's form (for plan/check_marks)."""
    return model.marks()
