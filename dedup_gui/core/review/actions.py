"""File actions: move the user's confirmed choices to the trash (or elsewhere), one by one.

Every file is acted on separately and reported separately (:class:`ActionResult`); one failure
never stops the rest. Nothing here runs without a :class:`TrashPlan`, which only exists after
the user confirmed it. Safety rules, enforced here whatever the caller did:

* a file inside a protected (reference) folder is never touched (status REFUSED);
* a file that changed on disk since the scan (size or mtime) is not touched: its result has
  status CHANGED, and :func:`replan_changed` makes the plan to run after asking again;
* permanent deletion needs ``allow_delete=True`` (its own explicit confirmation);
* success is verified, never assumed: the file must be gone from its place and present at the
  destination (the folder, the quarantine, or the freedesktop trash where it can be found);
* with an :class:`~dedup_gui.core.review.actionlog.ActionLog`, every attempt is recorded.

When the system trash fails (network shares, some mounts), the caller offers
``ActionKind.QUARANTINE``: a plain rename into :func:`quarantine_dir_for` on the same volume,
which the action log can undo.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken, Progress
from dedup_gui.core.review import actionlog
from dedup_gui.core.scan.discovery import QUARANTINE_DIR
from dedup_gui.core.types import (
    ActionKind,
    ActionResult,
    ActionStatus,
    PlannedFile,
    TrashPlan,
)

if TYPE_CHECKING:
    from dedup_gui.core.review.actionlog import ActionLog

logger = logging.getLogger(__name__)

Trasher = Callable[[str], None]


def _send2trash(path: str) -> None:
    from send2trash import send2trash

    send2trash(path)


def _changed(f: PlannedFile) -> tuple[ActionStatus, str] | None:
    try:
        st = os.stat(f.path)
    except FileNotFoundError:
        return ActionStatus.MISSING, "the file is gone"
    except OSError as exc:
        return ActionStatus.FAILED, f"cannot read: {exc.strerror or exc}"
    if st.st_size != f.size or st.st_mtime_ns != f.mtime_ns:
        what = "size" if st.st_size != f.size else "modification time"
        return (
            ActionStatus.CHANGED,
            f"the file changed since the scan ({what} differs); confirm again to act on it",
        )
    return None


def is_protected(path: Path, protected: Iterable[Path]) -> bool:
    """Whether ``path`` is, or lies inside, one of ``protected`` (symlinks resolved too)."""
    candidates = {Path(os.path.abspath(path)), Path(os.path.realpath(path))}
    for p in protected:
        for root in {Path(os.path.abspath(p)), Path(os.path.realpath(p))}:
            for c in candidates:
                if c == root or root in c.parents:
                    return True
        try:
            if os.path.samefile(path, p):  # a hard link to a protected file
                return True
        except OSError:
            pass
    return False


_NO_TRASH_ERRNOS = {errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.ENODEV}


def _trash_unavailable(exc: BaseException) -> bool:
    """Whether a trash failure means "no usable trash here" (not a problem with the file).

    Those files can go to a quarantine folder instead; a permission problem on the file itself
    would stop the quarantine too, so it is not one of them.
    """
    from send2trash.exceptions import TrashPermissionError

    if isinstance(exc, TrashPermissionError):  # cannot create the volume's trash folder
        return True
    if isinstance(exc, OSError) and exc.errno in _NO_TRASH_ERRNOS:
        return True
    text = str(exc).lower()
    return isinstance(exc, OSError) and exc.errno is None and ("mount" in text or "trash" in text)


def _unique_destination(folder: Path, name: str) -> Path:
    dest = folder / name
    stem, suffix = os.path.splitext(name)
    n = 1
    while os.path.lexists(dest):
        dest = folder / f"{stem} ({n}){suffix}"
        n += 1
    return dest


def quarantine_dir_for(path: Path) -> Path:
    """A quarantine folder on the same volume as ``path``.

    The volume's top folder when it is writable (one place per drive, e.g. a NAS share's
    root), else the highest writable folder above the file on the same volume. The folder is
    never scanned (see :data:`dedup_gui.core.scan.discovery.QUARANTINE_DIR`).
    """
    parent = Path(os.path.abspath(path)).parent
    try:
        dev = os.stat(parent).st_dev
    except OSError:
        return parent / QUARANTINE_DIR
    chain = [parent]
    while chain[-1].parent != chain[-1]:
        up = chain[-1].parent
        try:
            if os.stat(up).st_dev != dev:
                break
        except OSError:
            break
        chain.append(up)
    for folder in reversed(chain):  # from the volume's top down to the file's folder
        if os.access(folder, os.W_OK | os.X_OK):
            return folder / QUARANTINE_DIR
    return parent / QUARANTINE_DIR


def _move(src: Path, folder: Path, same_volume: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = _unique_destination(folder, src.name)
    if same_volume:
        try:
            os.rename(src, dest)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise OSError(
                    errno.EXDEV, "the quarantine folder is on another volume than the file"
                ) from exc
            raise
    else:
        shutil.move(str(src), str(dest))
    return dest


def _verify(f: PlannedFile, dest: Path | None) -> None:
    if os.path.lexists(f.path):
        raise OSError("the file is still in place after the action")
    if dest is not None:
        try:
            size = os.stat(dest).st_size
        except OSError:
            raise OSError(f"the file did not arrive at {dest}") from None
        if size != f.size:
            raise OSError(f"the copy at {dest} has {size} bytes instead of {f.size}")


def execute(
    plan: TrashPlan,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
    trasher: Trasher | None = None,
    *,
    log: ActionLog | None = None,
    allow_delete: bool = False,
    protected: Iterable[Path] = (),
) -> list[ActionResult]:
    """Carry out a confirmed plan, file by file (see the module docstring for the rules).

    Args:
        plan: What to do.
        progress: Receives files done / total.
        token: Checked between files; files not reached are not reported.
        trasher: Replaces ``send2trash`` (tests redirect the trash).
        log: Records every attempt (the app's action log).
        allow_delete: Permanent deletion was confirmed on its own; without it a DELETE plan
            refuses every file.
        protected: Reference folders or files, in addition to ``plan.protected``.

    Returns:
        One result per file attempted.
    """
    trash = trasher or _send2trash
    guard = (*plan.protected, *protected)
    batch = log.new_batch() if log is not None else ""
    results: list[ActionResult] = []
    for n, f in enumerate(plan.files):
        if token.cancelled:
            break
        progress.update(n, len(plan.files), str(f.path))
        trash_info: Path | None = None
        if is_protected(f.path, guard):
            result = ActionResult(
                f.path,
                False,
                plan.kind,
                error="in a reference folder: never acted on",
                status=ActionStatus.REFUSED,
            )
        elif plan.kind is ActionKind.DELETE and not allow_delete:
            result = ActionResult(
                f.path,
                False,
                plan.kind,
                error="permanent deletion needs its own explicit confirmation",
                status=ActionStatus.REFUSED,
            )
        elif (change := _changed(f)) is not None:
            result = ActionResult(f.path, False, plan.kind, error=change[1], status=change[0])
        else:
            dest: Path | None = None
            try:
                if plan.kind is ActionKind.TRASH:
                    started = time.time()
                    trash(str(f.path))
                    if os.path.lexists(f.path):
                        raise OSError("the trash reported success but the file is still there")
                    found = actionlog.locate_in_trash(f.path, since=started)
                    if found is not None:
                        dest, trash_info = found
                elif plan.kind is ActionKind.MOVE:
                    if plan.destination is None:
                        raise ValueError("no destination folder")
                    dest = _move(f.path, plan.destination, same_volume=False)
                elif plan.kind is ActionKind.QUARANTINE:
                    folder = plan.destination or quarantine_dir_for(f.path)
                    dest = _move(f.path, folder, same_volume=True)
                else:
                    os.unlink(f.path)
                _verify(f, dest)
                result = ActionResult(f.path, True, plan.kind, dest)
            except Exception as exc:  # every failure is reported for its file
                logger.warning("%s failed for %s: %s", plan.kind, f.path, exc)
                reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
                status = ActionStatus.FAILED
                if plan.kind is ActionKind.TRASH and _trash_unavailable(exc):
                    status = ActionStatus.UNAVAILABLE
                    reason = f"the system trash is not available here ({reason})"
                result = ActionResult(
                    f.path, False, plan.kind, dest, reason or type(exc).__name__, status
                )
        results.append(result)
        if log is not None:
            try:
                log.record(result, batch=batch, size=f.size, trash_info=trash_info)
            except OSError as exc:  # the action happened; losing its log line is reported
                logger.error("cannot write the action log: %s", exc)
    progress.update(len(plan.files), len(plan.files))
    return results


def replan_changed(plan: TrashPlan, results: Sequence[ActionResult]) -> TrashPlan:
    """The plan for the files that changed since the scan, as they are now.

    Run it only after the user confirmed again (the files may hold new content).
    """
    changed = {r.path for r in results if r.status is ActionStatus.CHANGED}
    files: list[PlannedFile] = []
    for f in plan.files:
        if f.path not in changed:
            continue
        try:
            st = os.stat(f.path)
        except OSError:
            continue
        files.append(PlannedFile(f.path, st.st_size, st.st_mtime_ns))
    return TrashPlan(plan.kind, tuple(files), plan.destination, plan.protected)


def failed_trash(results: Sequence[ActionResult]) -> list[ActionResult]:
    """Files the trash could not take (candidates for the quarantine fallback)."""
    return [r for r in results if r.status is ActionStatus.UNAVAILABLE]


def quarantine_plan(plan: TrashPlan, results: Sequence[ActionResult]) -> TrashPlan:
    """A QUARANTINE plan for the files whose trashing failed (same protections)."""
    failed = {r.path for r in failed_trash(results)}
    return TrashPlan(
        ActionKind.QUARANTINE,
        tuple(f for f in plan.files if f.path in failed),
        None,
        plan.protected,
    )
