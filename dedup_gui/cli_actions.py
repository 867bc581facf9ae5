"""Command line file actions on a saved scan result, and the action history.

    python main.py trash RESULT.json [--keep RULE] [--yes] [--quarantine [DIR]]
                                     [--move-to DIR | --delete] [--reference DIR]...
    python main.py history [--undo ID] [--limit N]

``trash`` marks every file of every group except the one the keep rule chooses, shows the plan,
asks (unless ``--yes``), then acts file by file and prints one line per file. Files in reference
folders (from the scan and from ``--reference``) are never acted on. Files that changed since
the scan are left alone and asked about again (never with ``--yes``). When the system trash
fails, the files can go to a quarantine folder on the same volume (asked, or ``--quarantine``).
Permanent deletion (``--delete``) needs its own confirmation: typing ``delete``, or
``--confirm-delete`` for scripts. Every action is recorded in the action log (``history``).

Exit codes: 0 every file done, 1 some files were not acted on (listed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE = 0, 1, 2

VERB = {
    "trash": "Move to the trash",
    "move": "Move",
    "quarantine": "Move to quarantine",
    "delete": "Delete permanently",
}
DONE_WORD = {
    "trash": "trashed",
    "move": "moved",
    "quarantine": "quarantined",
    "delete": "deleted",
}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``trash`` and ``history`` sub-commands to the CLI's parser."""
    from dedup_gui.core.review.selection import KeepRule

    t = sub.add_parser(
        "trash",
        help="act on a saved scan result: trash all but one file of each group",
        description="Trash (or move, or delete) every file of each duplicate group except the "
        "one to keep. Reference folders are never touched.",
    )
    t.add_argument("result", type=Path, metavar="RESULT.json", help="written by scan --json")
    t.add_argument(
        "--keep",
        choices=[r.value for r in KeepRule],
        default=KeepRule.QUALITY.value,
        help="which file of each group to keep (default %(default)s)",
    )
    t.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    t.add_argument(
        "--quarantine",
        nargs="?",
        const="auto",
        metavar="DIR",
        help="if the trash fails, move the files into DIR (default: a quarantine folder on "
        "each file's volume) instead of asking",
    )
    what = t.add_mutually_exclusive_group()
    what.add_argument("--move-to", type=Path, metavar="DIR", help="move the files to DIR")
    what.add_argument("--delete", action="store_true", help="delete permanently (asks separately)")
    t.add_argument(
        "--confirm-delete",
        action="store_true",
        help="with --delete: confirm permanent deletion without asking (scripts)",
    )
    t.add_argument(
        "--reference",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="another folder whose files must never be acted on (repeatable)",
    )
    t.add_argument("--log", type=Path, metavar="FILE", help="action log file (default: user data)")

    h = sub.add_parser("history", help="list recorded file actions; undo a move or quarantine")
    h.add_argument("--undo", metavar="ID", help="put back the file of entry ID (or its prefix)")
    h.add_argument("--limit", type=int, default=50, help="show the last N entries (default 50)")
    h.add_argument("--log", type=Path, metavar="FILE", help="action log file (default: user data)")


def _ask(question: str, answer: str = "y") -> bool:
    """Ask on the terminal; no answer (closed stdin) means no."""
    try:
        reply = input(f"{question} ")
    except EOFError:
        return False
    return reply.strip().lower() in ({answer, "yes"} if answer == "y" else {answer})


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _print_results(results: Sequence, out: Callable[[str], None] = print) -> None:
    from dedup_gui.core.types import ActionStatus

    for r in results:
        if r.status is ActionStatus.DONE:
            where = f" -> {r.destination}" if r.destination else ""
            out(f"{DONE_WORD.get(str(r.kind), 'done'):>11}  {r.path}{where}")
        else:
            out(f"{str(r.status).upper():>11}  {r.path}: {r.error}")


def run_trash(args: argparse.Namespace) -> int:
    """The ``trash`` command."""
    from dedup_gui.core.review import actions, export, selection
    from dedup_gui.core.review.actionlog import ActionLog
    from dedup_gui.core.types import ActionKind, ActionStatus

    try:
        with open(args.result, encoding="utf-8") as fh:
            raw = json.load(fh)
        result = export.result_from_dict(raw)
    except (OSError, ValueError, KeyError) as exc:
        print(f"dedup-gui: error: cannot read {args.result}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.confirm_delete and not args.delete:
        print("dedup-gui: error: --confirm-delete only goes with --delete", file=sys.stderr)
        return EXIT_USAGE
    if result.cancelled:
        print("dedup-gui: error: this result is from a cancelled scan", file=sys.stderr)
        return EXIT_USAGE
    ref_roots = [Path(p) for p in (raw.get("options") or {}).get("reference_roots", [])]
    ref_roots += [Path(os.path.abspath(p)) for p in args.reference]
    ref_files = [f.path for f in result.files if f.is_reference]

    kind = ActionKind.TRASH
    if args.move_to:
        kind = ActionKind.MOVE
    elif args.delete:
        kind = ActionKind.DELETE
    rule = selection.KeepRule(args.keep)
    marks = selection.mark_all_but_keeper(result.groups, rule)
    plan = selection.plan(result.groups, marks, kind, args.move_to)
    protected = (*plan.protected, *ref_files, *ref_roots)
    kept = [f for f in plan.files if actions.is_protected(f.path, protected)]
    files = tuple(f for f in plan.files if f not in kept)
    plan = type(plan)(plan.kind, files, plan.destination, tuple(dict.fromkeys(protected)))
    for f in kept:
        print(f"{'REFUSED':>11}  {f.path}: in a reference folder: never acted on")
    if not plan.files:
        print("Nothing to do: no duplicate files outside the reference folders.")
        return EXIT_INCOMPLETE if kept else EXIT_OK

    print(f"{VERB[str(kind)]}: {len(plan.files)} files ({_human(plan.total_bytes)}), keeping "
          f"one file per group by '{rule.value}':")  # fmt: skip
    for f in plan.files[:30]:
        print(f"  {f.path}")
    if len(plan.files) > 30:
        print(f"  ... and {len(plan.files) - 30} more")
    if not args.yes and not _ask(f"{VERB[str(kind)]} these {len(plan.files)} files? [y/N]"):
        print("Nothing was done.")
        return EXIT_INCOMPLETE
    allow_delete = False
    if kind is ActionKind.DELETE:
        allow_delete = args.confirm_delete or _ask(
            "They will NOT go to the trash and cannot be restored. Type 'delete' to confirm:",
            "delete",
        )
        if not allow_delete:
            print("Nothing was deleted.")
            return EXIT_INCOMPLETE

    action_log = ActionLog(args.log)
    results = actions.execute(plan, log=action_log, allow_delete=allow_delete)
    _print_results(results)

    # files changed since the scan: ask again (never implied by --yes)
    changed = [r for r in results if r.status is ActionStatus.CHANGED]
    if changed:
        print(f"{len(changed)} files changed since the scan and were left alone.")
        if not args.yes and _ask("Act on them anyway, as they are now? [y/N]"):
            again = actions.execute(
                actions.replan_changed(plan, results), log=action_log, allow_delete=allow_delete
            )
            _print_results(again)
            results = [r for r in results if r.status is not ActionStatus.CHANGED] + again

    # the trash failed (network share, unusual mount): offer a quarantine on the same volume
    failed = actions.failed_trash(results)
    if failed:
        q = actions.quarantine_plan(plan, results)
        where = (
            "a quarantine folder on each file's volume"
            if args.quarantine in (None, "auto")
            else args.quarantine
        )
        print(f"The trash could not take {len(failed)} files.")
        go = args.quarantine is not None or (
            not args.yes and _ask(f"Move them to {where} instead (undo with 'history')? [y/N]")
        )
        if go:
            if args.quarantine not in (None, "auto"):
                q = type(q)(q.kind, q.files, Path(args.quarantine), q.protected)
            again = actions.execute(q, log=action_log)
            _print_results(again)
            failed_paths = {r.path for r in failed}
            results = [r for r in results if r.path not in failed_paths] + again
        else:
            print("They were left in place (use --quarantine to move them aside instead).")

    done = [r for r in results if r.ok]
    left = len(results) - len(done) + len(kept)
    print(
        f"{len(done)} files done, {left} not acted on. Action log: {action_log.path} "
        "(see 'history')."
    )
    return EXIT_OK if left == 0 else EXIT_INCOMPLETE


def run_history(args: argparse.Namespace) -> int:
    """The ``history`` command."""
    import time

    from dedup_gui.core.review.actionlog import UNDO, ActionLog, restore_hint

    action_log = ActionLog(args.log)
    entries = action_log.entries()
    if args.undo:
        matches = [e for e in entries if e.id.startswith(args.undo) and e.kind != UNDO]
        if len(matches) != 1:
            print(f"dedup-gui: error: {len(matches)} entries match {args.undo!r}", file=sys.stderr)
            return EXIT_USAGE
        r = action_log.undo(matches[0])
        if r.ok:
            print(f"put back  {r.path}")
            return EXIT_OK
        print(f"cannot undo {r.path}: {r.error}", file=sys.stderr)
        return EXIT_INCOMPLETE
    if not entries:
        print(f"No file actions recorded ({action_log.path}).")
        return EXIT_OK
    undone = action_log.undone_ids()
    for e in entries[-args.limit :]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.time))
        state = "ok" if e.ok else e.status
        dest = f" -> {e.destination}" if e.destination else ""
        print(f"{e.id[:8]}  {when}  {e.kind:<10} {state:<8} {e.source}{dest}")
        if not e.ok and e.error:
            print(f"{'':>30}{e.error}")
        elif e.id in undone:
            print(f"{'':>30}undone")
        elif action_log.can_undo(e, undone):
            print(f"{'':>30}undo: dedup-gui history --undo {e.id[:8]}")
        elif e.kind != UNDO and e.ok:
            print(f"{'':>30}{restore_hint(e)}")
    return EXIT_OK
