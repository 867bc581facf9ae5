"""Acting on the marked files: confirm, run on a worker thread, report per file.

The rules (what may be marked, what a plan contains, which marks empty a whole group) come from
:mod:`dedup_gui.core.review.selection`; the work is
:func:`dedup_gui.core.review.actions.execute`, one file at a time. Here: the questions asked
before anything happens, and what the window does after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal, Slot

from dedup_gui.core.progress import CancelToken
from dedup_gui.core.review import selection
from dedup_gui.core.review.actionlog import ActionLog
from dedup_gui.core.review.actions import Trasher
from dedup_gui.core.types import ActionKind, ActionResult, DuplicateGroup, TrashPlan
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.tasks import Task

STAGE = {ActionKind.TRASH: "Moving to the trash", ActionKind.MOVE: "Moving files"}
DONE = {ActionKind.TRASH: "Moved to the trash", ActionKind.MOVE: "Moved"}


class MarkedGroups(Protocol):
    """What file actions need of a model: groups, marks, and removing the files done.

    :class:`~dedup_gui.ui.group_model.GroupModel` is one; the find panel's model another.
    """

    def groups(self) -> list[DuplicateGroup]:
        """The groups shown."""
        ...

    def group_by_id(self, gid: int) -> DuplicateGroup | None:
        """One group by its id."""
        ...

    def marks(self) -> Mapping[int, set[int]]:
        """Marked member indexes per group id."""
        ...

    def remove_paths(self, paths: Iterable[Path]) -> None:
        """Drop files that were acted on."""
        ...


class FileActions(QObject):
    """Trash, move or delete the marked files of a model (:class:`MarkedGroups`).

    Signals:
        progress(ProgressEvent): Files done (from the worker thread; connect to the GUI).
        started(str): What is being done (for the progress line).
        message(str): A one-line outcome for the status bar.
    """

    progress = Signal(object)
    started = Signal(str)
    message = Signal(str)

    def __init__(
        self,
        model: MarkedGroups,
        prompt: Callable[[], Prompter],
        trasher: Trasher | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._prompt = prompt
        self.trasher = trasher
        self._kind = ActionKind.TRASH
        self.action_log: ActionLog | None = None  # set by ui.action_safety: records every file
        self.task = Task("dedup-actions", self)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

    def run(self, kind: ActionKind, destination: Path | None = None) -> bool:
        """Ask, then act on the marked files; False when nothing was started."""
        if self.task.running:
            return False
        groups = self.model.groups()
        marks = self.model.marks()
        check = selection.check_marks(groups, marks)
        if not check.files:
            self.message.emit(
                "Nothing is marked: check files, or press Ctrl+K to mark all but the keepers"
            )
            return False
        plan = selection.plan(groups, marks, kind, destination)
        if not self._confirm(plan) or not self._confirm_whole_groups(check.whole_groups):
            return False
        self._kind = kind
        trasher = self.trasher
        action_log = self.action_log
        emit = self.progress.emit

        def work(token: CancelToken) -> list[ActionResult]:
            from dedup_gui.core.progress import Progress
            from dedup_gui.core.review.actions import execute

            return execute(
                plan,
                Progress(emit, weights={"": 1.0}),
                token,
                trasher=trasher,
                allow_delete=plan.kind is ActionKind.DELETE,  # confirmed twice in _confirm
                log=action_log,
            )

        self.started.emit(STAGE.get(kind, "Deleting"))
        self.task.start(work)
        return True

    def _confirm(self, plan: TrashPlan) -> bool:
        ask = self._prompt()
        what = f"{len(plan.files)} files ({fmt.size(plan.total_bytes)})"
        details = "\n".join(str(f.path) for f in plan.files)
        if plan.kind is ActionKind.TRASH:
            return ask.confirm(
                "Move to trash",
                f"Move {what} to the trash?",
                "You can restore them from the system trash.",
                details,
                accept="Move to trash",
            )
        if plan.kind is ActionKind.MOVE:
            return ask.confirm(
                "Move files", f"Move {what} to {plan.destination}?", "", details, accept="Move"
            )
        # permanent deletion: two separate, explicit confirmations
        return ask.confirm(
            "Delete permanently",
            f"Delete {what} permanently?",
            "They will NOT go to the trash and cannot be restored.",
            details,
            accept="Delete permanently",
            danger=True,
        ) and ask.confirm(
            "Delete permanently",
            f"Really delete {what} for good?",
            "This is your second and last confirmation.",
            accept="Yes, delete for good",
            danger=True,
        )

    def _confirm_whole_groups(self, group_ids: tuple[int, ...]) -> bool:
        """Every file of a group marked: a second, explicit confirmation."""
        if not group_ids:
            return True
        n = len(group_ids)
        paths = []
        for gid in group_ids:
            g = self.model.group_by_id(gid)
            paths += [str(p) for p in (g.paths if g else [])]
        return self._prompt().confirm(
            "Every copy is marked",
            f"In {n} group{'s' if n > 1 else ''} every file is marked.",
            "Those videos would be gone from your folders entirely, with no copy left. "
            "Continue anyway?",
            "\n".join(paths),
            accept="Yes, remove every copy",
            danger=True,
        )

    @Slot(object)
    def _on_finished(self, results: list[ActionResult]) -> None:
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        self.model.remove_paths([r.path for r in done])  # failed files stay, still marked
        msg = f"{DONE.get(self._kind, 'Deleted')}: {len(done)} files"
        if failed:
            msg += f"; {len(failed)} failed and stay marked"
        self.message.emit(msg)
        if failed:
            self._prompt().report(
                "Some files were not moved",
                f"{len(failed)} of {len(results)} files could not be handled. They stay marked; "
                "fix the problem and try again.",
                results,
            )

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        self._prompt().error("The action failed", f"{type(error).__name__}: {error}")
