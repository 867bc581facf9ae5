"""The results tree with its frame strips, filter box and keeper-rule bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.review.selection import RULE_LABELS, KeepRule
from dedup_gui.core.types import GroupMember
from dedup_gui.ui.group_model import (
    STRIP_FRAMES,
    STRIP_ROLE,
    Col,
    GroupFilterProxy,
    GroupModel,
)
from dedup_gui.ui.thumbnails import StripKey, ThumbnailLoader, paint_strip

ROW_THUMB_HEIGHT = 48
THUMB_SIDE = 160  # decoded size of list thumbnails (longer side)


class StripDelegate(QStyledItemDelegate):
    """Paints a file's frame strip in the Frames column, loading it in the background."""

    def __init__(self, loader: ThumbnailLoader, view: QTreeView) -> None:
        super().__init__(view)
        self._loader = loader
        self._view = view
        self.enabled = True
        loader.ready.connect(lambda _key: view.viewport().update())

    def key(self, index: QModelIndex | QPersistentModelIndex) -> StripKey | None:
        """The strip wanted for a row."""
        value = index.data(STRIP_ROLE)
        if value is None:
            return None
        source, times = value
        return StripKey(source, times, THUMB_SIDE)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Background and selection as usual, then the frames."""
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else self._view.style()
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
        )
        key = self.key(index) if self.enabled else None
        if key is None:
            return
        pixmaps = self._loader.request(key)
        placeholder = option.palette.color(QPalette.ColorRole.Mid)
        rect: QRect = option.rect.adjusted(3, 1, -3, -1)
        if self._loader.error(key):
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no preview")
            return
        paint_strip(painter, rect, pixmaps, len(key.times), placeholder)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Room for a strip of frames when thumbnails are on."""
        base = super().sizeHint(option, index)
        if not self.enabled or index.data(STRIP_ROLE) is None:
            return base
        return QSize(int(STRIP_FRAMES * ROW_THUMB_HEIGHT * 16 / 9), ROW_THUMB_HEIGHT + 2)


class ResultsView(QWidget):
    """Filter + rule bar above the groups tree; an empty-state message when there is nothing.

    Signals:
        current_changed(): The current row changed.
        rule_changed(KeepRule): The user picked another keeper rule.
        mark_requested(): "Mark all but the keeper" was clicked.
    """

    current_changed = Signal()
    rule_changed = Signal(object)
    mark_requested = Signal()

    def __init__(
        self, model: GroupModel, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = GroupFilterProxy(self)
        self.proxy.setSourceModel(model)

        self.filter = QLineEdit()
        self.filter.setObjectName("filter")
        self.filter.setPlaceholderText("Filter by name, folder or codec (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._on_filter)

        self.rule = QComboBox()
        self.rule.setObjectName("keepRule")
        for rule, label in RULE_LABELS.items():
            self.rule.addItem(label, str(rule))
        self.rule.setToolTip("How the file to keep is chosen in each group")
        self.rule.currentIndexChanged.connect(
            lambda _i: self.rule_changed.emit(KeepRule(self.rule.currentData()))
        )
        self.mark_button = QPushButton("Mark all but the keeper")
        self.mark_button.setToolTip(
            "In every group, mark all files except the one the rule keeps (Ctrl+K)"
        )
        self.mark_button.clicked.connect(self.mark_requested)

        bar = QHBoxLayout()
        bar.addWidget(self.filter, 2)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Keep:"))
        bar.addWidget(self.rule, 1)
        bar.addWidget(self.mark_button)

        self.tree = QTreeView()
        self.tree.setObjectName("results")
        self.tree.setModel(self.proxy)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(Col.SIZE, Qt.SortOrder.DescendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.delegate = StripDelegate(loader, self.tree)
        self.tree.setItemDelegateForColumn(Col.THUMBS, self.delegate)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {
            Col.NAME: 230,
            Col.THUMBS: int(STRIP_FRAMES * ROW_THUMB_HEIGHT * 16 / 9) + 12,
            Col.SIMILARITY: 116,
            Col.SIZE: 78,
            Col.DURATION: 68,
            Col.RESOLUTION: 90,
            Col.BITRATE: 84,
            Col.CODEC: 64,
            Col.FPS: 54,
            Col.MODIFIED: 128,
        }
        for col, w in widths.items():
            header.resizeSection(col, w)
        self.tree.selectionModel().currentRowChanged.connect(lambda *_: self.current_changed.emit())

        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.set_empty_text()

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        model.modelReset.connect(self._on_reset)
        model.groups_changed.connect(self._update_stack)
        for signal in (
            self.proxy.layoutChanged,
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
        ):
            signal.connect(self._span_groups)

    def _span_groups(self, *_args: object) -> None:
        """Group lines span the whole width (their text says it all)."""
        root = QModelIndex()
        for row in range(self.proxy.rowCount()):
            self.tree.setFirstColumnSpanned(row, root, True)

    def set_empty_text(self, text: str | None = None) -> None:
        """The message shown when there are no groups."""
        self.empty.setText(
            text
            or "<h3>No duplicates to show yet</h3>"
            "<p>Add folders on the left (or drop them on the window),<br>"
            "then press <b>Scan</b> (F5).</p>"
        )

    def focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.filter.setFocus()
        self.filter.selectAll()

    def set_thumbnails(self, on: bool) -> None:
        """Show or hide the frame strips."""
        self.delegate.enabled = on
        self.tree.setColumnHidden(Col.THUMBS, not on)
        self.tree.doItemsLayout()

    def set_rule(self, rule: KeepRule) -> None:
        """Select a rule in the combo box."""
        self.rule.setCurrentIndex(max(0, self.rule.findData(str(rule))))

    # ---------------------------------------------------------------- selection helpers
    def current_source(self) -> QModelIndex:
        """The current row in model (not proxy) terms."""
        return self.proxy.mapToSource(self.tree.currentIndex())

    def current_member(self) -> GroupMember | None:
        """The file of the current row, if it is a file row."""
        return self.model.member_of(self.current_source())

    def selected_members(self) -> list[GroupMember]:
        """Files of the selected rows, in view order."""
        out = []
        for idx in self.tree.selectionModel().selectedRows(Col.NAME):
            m = self.model.member_of(self.proxy.mapToSource(idx))
            if m is not None:
                out.append(m)
        return out

    def select_path(self, path: Path) -> bool:
        """Make a file the current row."""
        src = self.model.index_of_path(path)
        if not src.isValid():
            return False
        idx = self.proxy.mapFromSource(src)
        if not idx.isValid():
            return False
        self.tree.setCurrentIndex(idx)
        self.tree.scrollTo(idx)
        return True

    def _on_filter(self, text: str) -> None:
        self.proxy.set_text(text)
        self.tree.expandAll()

    def _on_reset(self) -> None:
        self._span_groups()
        self.tree.expandAll()
        self._update_stack()

    def _update_stack(self) -> None:
        self.stack.setCurrentWidget(self.tree if self.model.rowCount() else self.empty)
