"""What the window does around file actions so that nothing is lost.

* every action is recorded in the action log (``FileActions.action_log``), shown by
  *Files → Action history…* with undo for moves, quarantines and located trashed files;
* when the system trash refuses files (network shares, some mounts), the window offers moving
  them into a quarantine folder on the same volume, never a permanent deletion;
* files that changed on disk since the scan are not touched; the window asks again and acts on
  them only after a new yes.

:class:`ActionSafety` takes what it needs as arguments (the prompter, the status line, the
reference roots) and follows any number of :class:`~dedup_gui.ui.file_actions.FileActions`
(:meth:`ActionSafety.watch`): the groups view's and the find panel's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from dedup_gui.core.progress import CancelToken
from dedup_gui.core.review import actions
from dedup_gui.core.review.actionlog import ActionLog
from dedup_gui.core.types import ActionKind, ActionResult, ActionStatus, PlannedFile, TrashPlan
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.file_actions import FileActions, MarkedGroups
from dedup_gui.ui.history import HistoryDialog
from dedup_gui.ui.tasks import Task

Status = Callable[[str, int], None]  # a one-line message and how long to show it (ms)


class ActionSafety(QObject):
    """Follows file actions: log, history, quarantine fallback, ask again.

    Args:
        parent: The window (parent of the history dialog).
        prompt: Returns the prompter that asks and reports.
        status: Shows a one-line message in the status bar.
        reference_roots: The reference folders of the current scan (never touched).
        log: The action log (the user's data folder by default).
    """

    def __init__(
        self,
        parent: QWidget,
        prompt: Callable[[], Prompter],
        status: Status,
        reference_roots: Callable[[], tuple[Path, ...]] = tuple,
        log: ActionLog | None = None,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._prompt = prompt
        self._status = status
        self._reference_roots = reference_roots
        self.log = log if log is not None else ActionLog()
        self.task = Task("dedup-safety-actions", self)
        self.task.finished.connect(self._on_followup_finished)
        self.task.failed.connect(
            lambda e: prompt().error("The action failed", f"{type(e).__name__}: {e}")
        )
        self.act_history = QAction("Action &history…", parent)
        self.act_history.setToolTip("What was trashed, moved or quarantined; undo a move")
        self.act_history.triggered.connect(self.show_history)
        parent.addAction(self.act_history)
        self.last_plan: TrashPlan | None = None
        # confirmed follow-ups waiting for the task, each with the model whose files it moves
        self._queue: list[tuple[TrashPlan, FileActions]] = []
        self._running: FileActions | None = None
        self.history: HistoryDialog | None = None

    def watch(self, file_actions: FileActions) -> None:
        """Log ``file_actions`` and follow up on what it could not do."""
        file_actions.action_log = self.log
        file_actions.task.finished.connect(
            lambda results: self._on_actions_finished(file_actions, results)
        )

    def add_to_menu(self, menu: QMenu | None) -> None:
        """Put *Action history…* at the end of ``menu``."""
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.act_history)

    # ------------------------------------------------------------------ history
    @Slot()
    def show_history(self) -> HistoryDialog:
        """Open (or raise) the history window."""
        if self.history is None:
            self.history = HistoryDialog(self.log, self._parent)
            self.history.restored.connect(self._on_restored)
        self.history.refresh()
        self.history.show()
        self.history.activateWindow()
        return self.history

    @Slot(object)
    def _on_restored(self, path: Path) -> None:
        self._status(f"Put back {path.name}; scan again to see it in the results", 10000)

    # ------------------------------------------------------------------ follow-ups
    @staticmethod
    def _planned(model: MarkedGroups, paths: set[Path]) -> tuple[PlannedFile, ...]:
        out: dict[Path, PlannedFile] = {}
        for g in model.groups():
            for m in g.members:
                if m.file.path in paths and not m.file.is_reference:
                    out[m.file.path] = PlannedFile(m.file.path, m.file.size, m.file.mtime_ns)
        return tuple(out.values())

    def _protected(self, model: MarkedGroups) -> tuple[Path, ...]:
        refs = [m.file.path for g in model.groups() for m in g.members
                if m.file.is_reference]  # fmt: skip
        return (*refs, *self._reference_roots())

    def _on_actions_finished(self, source: FileActions, results: Sequence[ActionResult]) -> None:
        model = source.model
        prompt = self._prompt()
        changed = [r for r in results if r.status is ActionStatus.CHANGED]
        if changed:
            kind = changed[0].kind
            names = "\n".join(str(r.path) for r in changed)
            if kind is not ActionKind.DELETE and prompt.confirm(
                "Files changed since the scan",
                f"{len(changed)} marked files changed on disk since the scan and were not touched.",
                "They may hold new content. Act on them anyway, as they are now?",
                names,
                accept="Act on them",
            ):
                base = TrashPlan(kind, self._planned(model, {r.path for r in changed}),
                                 protected=self._protected(model))  # fmt: skip
                plan = actions.replan_changed(base, changed)
                if kind is ActionKind.MOVE:
                    dest = next((r.destination for r in results if r.destination), None)
                    plan = TrashPlan(kind, plan.files, dest.parent if dest else None,
                                     plan.protected)  # fmt: skip
                self._queue.append((plan, source))
        failed = actions.failed_trash(results)
        if failed:
            files = self._planned(model, {r.path for r in failed})
            where = {str(actions.quarantine_dir_for(f.path)) for f in files}
            if files and prompt.confirm(
                "The trash is not available",
                f"The system trash could not take {len(failed)} files (a network share or "
                "an unusual drive?).",
                "Move them into a quarantine folder on the same drive instead? Nothing is "
                "deleted; Files → Action history can put them back.",
                "\n".join(sorted(where)),
                accept="Move to quarantine",
            ):
                plan = TrashPlan(ActionKind.QUARANTINE, files, None, self._protected(model))
                self._queue.append((plan, source))
        self._run_next()

    def _run_next(self) -> None:
        """Start the next confirmed follow-up (one at a time)."""
        while self._queue and not self.task.running:
            plan, source = self._queue.pop(0)
            if plan.files:
                self._run(plan, source)
                return

    def _run(self, plan: TrashPlan, source: FileActions) -> None:
        log = self.log
        self.last_plan = plan
        self._running = source
        trasher = source.trasher  # the same trash function as the source's own actions

        def work(token: CancelToken) -> list[ActionResult]:
            return actions.execute(plan, token=token, trasher=trasher, log=log)

        self.task.start(work)

    @Slot(object)
    def _on_followup_finished(self, results: Sequence[ActionResult]) -> None:
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        if self._running is not None:
            self._running.model.remove_paths([r.path for r in done])
        word = "Quarantined" if results and results[0].kind is ActionKind.QUARANTINE else "Done"
        self._status(
            f"{word}: {len(done)} files" + (f"; {len(failed)} failed" if failed else ""), 15000
        )
        if failed:
            self._prompt().report(
                "Some files were not moved",
                f"{len(failed)} files could not be handled. They stay marked.",
                results,
            )
        if self.history is not None:
            self.history.refresh()
        self._run_next()
