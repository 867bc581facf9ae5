"""What the window does around file actions so that nothing is lost.

* every action is recorded in the action log (``FileActions.action_log``), shown by
  *Files → Action history…* with undo for moves, quarantines and located trashed files;
* when the system trash refuses files (network shares, some mounts), the window offers moving
  them into a quarantine folder on the same volume, never a permanent deletion;
* files that changed on disk since the scan are not touched; the window asks again and acts on
  them only after a new yes.

:func:`install` hooks this into a :class:`~dedup_gui.ui.main_window.MainWindow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction

from dedup_gui.core.progress import CancelToken
from dedup_gui.core.review import actions
from dedup_gui.core.review.actionlog import ActionLog
from dedup_gui.core.types import ActionKind, ActionResult, ActionStatus, PlannedFile, TrashPlan
from dedup_gui.ui.history import HistoryDialog
from dedup_gui.ui.tasks import Task

if TYPE_CHECKING:
    from dedup_gui.ui.main_window import MainWindow


class ActionSafety(QObject):
    """Follows the window's file actions: log, history, quarantine fallback, ask again."""

    def __init__(self, window: MainWindow, log: ActionLog | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.log = log if log is not None else ActionLog()
        window.file_actions.action_log = self.log
        self.task = Task("dedup-safety-actions", self)
        self.task.finished.connect(self._on_followup_finished)
        self.task.failed.connect(
            lambda e: window.prompt.error("The action failed", f"{type(e).__name__}: {e}")
        )
        window.action_task.finished.connect(self._on_actions_finished)
        self.act_history = QAction("Action &history…", window)
        self.act_history.setToolTip("What was trashed, moved or quarantined; undo a move")
        self.act_history.triggered.connect(self.show_history)
        window.addAction(self.act_history)
        for menu_action in window.menuBar().actions():
            if menu_action.text().replace("&", "") == "Files" and menu_action.menu():
                menu_action.menu().addSeparator()
                menu_action.menu().addAction(self.act_history)
        self.last_plan: TrashPlan | None = None
        self._queue: list[TrashPlan] = []  # confirmed follow-ups waiting for the task
        self.history: HistoryDialog | None = None

    # ------------------------------------------------------------------ history
    @Slot()
    def show_history(self) -> HistoryDialog:
        """Open (or raise) the history window."""
        if self.history is None:
            self.history = HistoryDialog(self.log, self.window)
            self.history.restored.connect(self._on_restored)
        self.history.refresh()
        self.history.show()
        self.history.activateWindow()
        return self.history

    @Slot(object)
    def _on_restored(self, path: Path) -> None:
        self.window.statusBar().showMessage(
            f"Put back {path.name}; scan again to see it in the results", 10000
        )

    # ------------------------------------------------------------------ follow-ups
    def _planned(self, paths: set[Path]) -> tuple[PlannedFile, ...]:
        out: dict[Path, PlannedFile] = {}
        for g in self.window.model.groups():
            for m in g.members:
                if m.file.path in paths and not m.file.is_reference:
                    out[m.file.path] = PlannedFile(m.file.path, m.file.size, m.file.mtime_ns)
        return tuple(out.values())

    def _protected(self) -> tuple[Path, ...]:
        refs = [m.file.path for g in self.window.model.groups() for m in g.members
                if m.file.is_reference]  # fmt: skip
        opts = self.window.scan_options
        return (*refs, *(opts.reference_roots if opts else ()))

    @Slot(object)
    def _on_actions_finished(self, results: Sequence[ActionResult]) -> None:
        prompt = self.window.prompt
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
                base = TrashPlan(kind, self._planned({r.path for r in changed}),
                                 protected=self._protected())  # fmt: skip
                plan = actions.replan_changed(base, changed)
                if kind is ActionKind.MOVE:
                    dest = next((r.destination for r in results if r.destination), None)
                    plan = TrashPlan(kind, plan.files, dest.parent if dest else None,
                                     plan.protected)  # fmt: skip
                self._queue.append(plan)
        failed = actions.failed_trash(results)
        if failed:
            files = self._planned({r.path for r in failed})
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
                self._queue.append(TrashPlan(ActionKind.QUARANTINE, files, None, self._protected()))
        self._run_next()

    def _run_next(self) -> None:
        """Start the next confirmed follow-up (one at a time)."""
        while self._queue and not self.task.running:
            plan = self._queue.pop(0)
            if plan.files:
                self._run(plan)
                return

    def _run(self, plan: TrashPlan) -> None:
        log = self.log
        self.last_plan = plan
        # the same trash function as the window's own actions (tests inject one)
        trasher = getattr(self.window.file_actions, "_trasher", None)

        def work(token: CancelToken) -> list[ActionResult]:
            return actions.execute(plan, token=token, trasher=trasher, log=log)

        self.task.start(work)

    @Slot(object)
    def _on_followup_finished(self, results: Sequence[ActionResult]) -> None:
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        self.window.model.remove_paths([r.path for r in done])
        word = "Quarantined" if results and results[0].kind is ActionKind.QUARANTINE else "Done"
        self.window.statusBar().showMessage(
            f"{word}: {len(done)} files" + (f"; {len(failed)} failed" if failed else ""), 15000
        )
        if failed:
            self.window.prompt.report(
                "Some files were not moved",
                f"{len(failed)} files could not be handled. They stay marked.",
                results,
            )
        if self.history is not None:
            self.history.refresh()
        self._run_next()


def install(window: MainWindow, log: ActionLog | None = None) -> ActionSafety:
    """Attach the action log, history and quarantine fallback to ``window``."""
    window.action_safety = ActionSafety(window, log)  # type: ignore[attr-defined]
    return window.action_safety  # type: ignore[attr-defined]
