"""File actions: move the user's confirmed choices to the trash (or elsewhere), one by one.

Every file is acted on separately and reported separately (:class:`ActionResult`); one failure
never stops the rest. Nothing here runs without a :class:`TrashPlan`, which only exists after
the user confirmed it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken, Progress
from dedup_gui.core.types import ActionKind, ActionResult, PlannedFile, TrashPlan

log = logging.getLogger(__name__)

Trasher = Callable[[str], None]


def _send2trash(path: str) -> None:
    from send2trash import send2trash

    send2trash(path)


def _changed(f: PlannedFile) -> str | None:
    try:
        st = os.stat(f.path)
    except FileNotFoundError:
        return "the file is gone"
    if st.st_size != f.size or st.st_mtime_ns != f.mtime_ns:
        return "the file changed since the scan"
    return None


def _unique_destination(folder: Path, name: str) -> Path:
    dest = folder / name
    stem, suffix = os.path.splitext(name)
    n = 1
    while dest.exists():
        dest = folder / f"{stem} ({n}){suffix}"
        n += 1
    return dest


def execute(
    plan: TrashPlan,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
    trasher: Trasher | None = None,
) -> list[ActionResult]:
    """Carry out a confirmed plan, file by file.

    Args:
        plan: What to do.
        progress: Receives files done / total.
        token: Checked between files; files not reached are not reported.
        trasher: Replaces ``send2trash`` (tests redirect the trash).

    Returns:
        One result per file attempted.
    """
    trash = trasher or _send2trash
    results: list[ActionResult] = []
    for n, f in enumerate(plan.files):
        if token.cancelled:
            break
        progress.update(n, len(plan.files), str(f.path))
        changed = _changed(f)
        if changed:
            results.append(ActionResult(f.path, False, plan.kind, error=changed))
            continue
        try:
            if plan.kind is ActionKind.TRASH:
                trash(str(f.path))
                dest = None
            elif plan.kind in (ActionKind.MOVE, ActionKind.QUARANTINE):
                if plan.destination is None:
                    raise ValueError("no destination folder")
                plan.destination.mkdir(parents=True, exist_ok=True)
                dest = _unique_destination(plan.destination, f.path.name)
                shutil.move(str(f.path), str(dest))
            else:
                os.unlink(f.path)
                dest = None
            if os.path.lexists(f.path):
                raise OSError("the file is still in place after the action")
            results.append(ActionResult(f.path, True, plan.kind, dest))
        except Exception as exc:  # every failure is reported for its file
            log.warning("%s failed for %s: %s", plan.kind, f.path, exc)
            results.append(
                ActionResult(f.path, False, plan.kind, error=str(exc) or type(exc).__name__)
            )
    progress.update(len(plan.files), len(plan.files))
    return results
