"""Command line "where else is this?": the copies of a video or clip across the library.

    python main.py find CLIP... [--top N] [--threshold T] [--json OUT] [--root DIR...]

Each CLIP (a video file, or a folder whose videos are each a query) is analysed like a
scanned file (cached), searched against the videos earlier scans analysed (under ``--root``
folders, or all of them), and its copies are printed best first with the matched time range
on both sides. The analysis flags must be those of the scans (the same model and sampling), or
the library looks unscanned.

Exit codes as for ``scan``: 0 the search ran (even when nothing was found), 1 it could not run
(the library was never scanned, no query could be analysed, no model weights), 2 bad
arguments, 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from dedup_gui import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``find`` sub-command to the CLI's parser."""
    from dedup_gui import cli

    f = sub.add_parser(
        "find",
        help="find the copies of a video or clip in the scanned library",
        description="Where else is this? Search the videos earlier scans analysed for copies "
        "of each CLIP: the same video, mirrored or turned, an excerpt it was cut from, or a "
        "clip cut from it.",
    )
    f.add_argument(
        "queries", nargs="+", type=Path, metavar="CLIP", help="video files or folders of clips"
    )
    f.add_argument(
        "--root",
        action="extend",
        nargs="+",
        type=Path,
        default=None,
        metavar="DIR",
        help="search only files under these scanned folders (default: every analysed file)",
    )
    f.add_argument("--top", type=cli._positive(int), default=10, metavar="N",
                   help="at most N copies per clip (default %(default)s)")  # fmt: skip
    f.add_argument(
        "--threshold",
        type=cli._fraction,
        default=cli._DEF.match.threshold,
        metavar="T",
        help=f"similarity a copy needs, 0-1 or percent (default {cli._DEF.match.threshold})",
    )
    f.add_argument("--json", type=Path, metavar="OUT", help="write the matches as JSON")
    f.add_argument(
        "--reference",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="reference folder: its files are flagged as never to be deleted",
    )
    f.add_argument("--no-flip", action="store_true", help="do not match mirrored copies")
    f.add_argument("--no-rotation", action="store_true", help="do not look for turned copies")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar or listing")
    f.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    cli.add_analysis_arguments(f)
    # what scan takes as flags and find does not: the scan defaults
    f.set_defaults(
        no_recursive=False,
        exclude=[],
        extensions=None,
        min_size=0,
        max_size=0,
        follow_symlinks=False,
        min_duration=0.0,
        duration_tolerance=cli._DEF.match.duration_tolerance,
        partial=True,
        no_suppress=False,
        retry_failed=False,
    )


def _clock(seconds: float) -> str:
    s = max(0.0, seconds)
    m, rest = divmod(s, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{rest:04.1f}" if h else f"{m}:{rest:04.1f}"


def _range(r: tuple[float, float]) -> str:
    return f"{_clock(r[0])}–{_clock(r[1])}"


def to_dict(result: Any) -> dict[str, Any]:
    """A :class:`~dedup_gui.core.find.copies.FindResult` as plain JSON values."""
    return {
        "format": "dedup-gui-find/1",
        "version": __version__,
        "status": str(result.status),
        "message": result.message,
        "library_videos": result.library_videos,
        "library_source": result.library_source,
        "roots": [str(r) for r in result.roots],
        "seconds": result.seconds,
        "queries": [
            {
                "query": str(q.query.path),
                "duration": q.query.probe.duration if q.query.probe else None,
                "candidates": q.candidates,
                "seconds": q.seconds,
                "copies": [
                    {
                        "path": str(c.path),
                        "similarity": c.similarity,
                        "kind": str(c.kind),
                        "query_range": list(c.query_range),
                        "match_range": list(c.match_range),
                        "flipped": c.evidence.flipped,
                        "rotation": c.evidence.rotation,
                        "speed": c.evidence.speed,
                        "identical": c.identical,
                        "is_reference": c.file.is_reference,
                        "duration": c.file.probe.duration if c.file.probe else None,
                    }
                    for c in q.copies
                ],
            }
            for q in result.queries
        ],
        "problems": [
            {"path": str(p.path), "stage": str(p.stage), "reason": p.reason, "skipped": p.skipped}
            for p in result.problems
        ],
    }


def run_find(args: argparse.Namespace) -> int:
    """The ``find`` command."""
    from dedup_gui import cli
    from dedup_gui.core.analyse.runtime import apply_max_isa
    from dedup_gui.core.errors import ScanError
    from dedup_gui.core.progress import CancelToken, Progress

    apply_max_isa(args.max_isa)
    missing = [q for q in [*args.queries, *(args.root or [])] if not os.path.exists(q)]
    if missing:
        print(f"dedup-gui: error: no such file or folder: {', '.join(map(str, missing))}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if args.json is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        print(f"dedup-gui: error: cannot write {args.json}: folder does not exist", file=sys.stderr)
        return EXIT_USAGE
    from dedup_gui.core.find.copies import FIND_WEIGHTS, FindStatus, find_copies
    from dedup_gui.core.review import export

    options = cli.options_from_args(args)
    token = CancelToken()
    bar = cli.TerminalProgress(enabled=(not args.quiet and sys.stderr.isatty()) or args.verbose > 0)

    def on_sigint(signum: int, frame: Any) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        print("\nCancelling (press Ctrl-C again to abort at once)...", file=sys.stderr)
        token.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = find_copies(
            args.queries,
            options,
            roots=args.root,
            top=args.top,
            threshold=args.threshold,
            progress=Progress(bar, weights=FIND_WEIGHTS),
            token=token,
        )
    except ScanError as exc:
        print(f"dedup-gui: cannot analyse videos: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    if result.status is FindStatus.CANCELLED:
        print("Search cancelled.", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        export.write_atomic(args.json, json.dumps(to_dict(result), indent=1))
    for p in result.problems:
        if p.skipped:
            print(f"skipped: {p.path}: {p.reason}", file=sys.stderr)
    if result.status is FindStatus.NOT_SCANNED:
        where = " ".join(map(str, args.root)) if args.root else "DIR"
        print(f"dedup-gui: {result.message} (python main.py scan {where})", file=sys.stderr)
        return EXIT_FAILED
    if result.status is FindStatus.NO_QUERY:
        print(f"dedup-gui: {result.message}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        _print(result)
    return EXIT_OK


def _print(result: Any) -> None:
    where = f" in {result.library_source}" if result.library_source else ""
    print(f"Searched {result.library_videos} analysed videos{where}.")
    for q in result.queries:
        dur = q.query.probe.duration if q.query.probe else 0.0
        n = len(q.copies)
        print(f"\n{q.query.path} ({_clock(dur)}): {n} cop{'y' if n == 1 else 'ies'}")
        for rank, c in enumerate(q.copies, 1):
            extra = []
            if c.identical:
                extra.append("identical")
            if c.evidence.flipped and c.kind != "mirrored":
                extra.append("mirrored")
            if c.evidence.rotation:
                extra.append(f"turned {c.evidence.rotation}°")
            if c.file.is_reference:
                extra.append("reference")
            tag = f" ({', '.join(extra)})" if extra else ""
            print(
                f"  {rank:>2}. {c.similarity:4.0%}  {c.kind!s:<17} {c.path}{tag}\n"
                f"      clip {_range(c.query_range)}  <->  file {_range(c.match_range)}"
            )
