"""Command line: headless scans for power users, scripts and benchmarks.

    python main.py scan DIR... [--json OUT] [--csv OUT] [--groups-json OUT] [options]
    python main.py cache [--clear | --forget-failures]
    python main.py trash RESULT.json [--keep RULE] [--yes] [--quarantine [DIR]] (see cli_actions)
    python main.py history [--undo ID]
    python main.py find CLIP... [--top N] [--threshold T] [--json OUT] [--root DIR...] (cli_find)

Progress goes to stderr; results to the files given (or a summary on stdout). Exit codes:
0 scan completed (even with per-file problems), 1 the scan could not run (e.g. no model
weights), 2 bad arguments, 130 cancelled with Ctrl-C (the cache keeps everything analysed).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dedup_gui import __version__
from dedup_gui.core.analyse.models import DEFAULT_MODEL, MODELS
from dedup_gui.core.analyse.runtime import RUNTIMES, apply_max_isa
from dedup_gui.core.errors import ScanError
from dedup_gui.core.options import (
    VIDEO_EXTENSIONS,
    DiscoveryOptions,
    MatchOptions,
    ModelOptions,
    SamplingOptions,
    ScanOptions,
)
from dedup_gui.core.progress import CancelToken, Progress, ProgressEvent

log = logging.getLogger("dedup_gui")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
_DEF = ScanOptions()


def _size(text: str) -> int:
    """Parse ``700M``, ``1.5G``, ``300k`` or plain bytes."""
    text = text.strip().upper().rstrip("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    try:
        if text and text[-1] in mult:
            return int(float(text[:-1]) * mult[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 500k, 20M, 1.5G)") from None


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if v > 1.0:
        v /= 100.0  # accept percentages
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (or 0-100%): {text!r}")
    return v


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return v

    return parse


def _decoder(text: str) -> str:
    from dedup_gui.core.scan.decode.base import BACKENDS

    if text in BACKENDS or (":" in text and all(text.partition(":")[::2])):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid choice: {text!r} (choose from {', '.join(BACKENDS)}, or module:Class)"
    )


def _index_uri(text: str) -> str:
    from dedup_gui.core.errors import IndexUnavailable
    from dedup_gui.core.index.library import backend_kind

    try:
        backend_kind(text)
    except IndexUnavailable as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def add_analysis_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that decide how videos are analysed (shared by ``scan`` and ``find``).

    Cached features are reused only when these match the scan that made them.
    """
    e = parser.add_argument_group("analysis")
    e.add_argument(
        "--model",
        choices=sorted(MODELS),
        default=DEFAULT_MODEL,
        help="backbone network (default %(default)s)",
    )
    e.add_argument(
        "--weights",
        type=Path,
        metavar="FILE",
        help="local weights file for the model (offline machines)",
    )
    e.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    e.add_argument(
        "--runtime",
        choices=list(RUNTIMES),
        default=_DEF.model.runtime,
        help="where the network runs: auto (OpenVINO int8 on the CPU, torch on CUDA), "
        "openvino or torch (default %(default)s)",
    )
    e.add_argument(
        "--input-size",
        type=int,
        choices=(160, 224),
        default=_DEF.sampling.size,
        help="model input side in pixels: 224 is ~2x slower (default %(default)s)",
    )
    e.add_argument(
        "--max-isa",
        choices=("avx2",),
        help="use at most this CPU instruction set (as on most laptops; for benchmarks)",
    )
    e.add_argument(
        "--no-canvas",
        action="store_true",
        help="do not look for a picture inside a canvas (picture-in-picture, vertical "
        "reposts, frames, templates)",
    )
    e.add_argument(
        "--fps",
        type=_positive(float),
        default=_DEF.sampling.fps,
        help="frames sampled per second (default %(default)s)",
    )
    e.add_argument(
        "--max-frames",
        type=_positive(int),
        default=_DEF.sampling.max_frames,
        help="frame cap per video (default %(default)s)",
    )
    e.add_argument(
        "--min-frames",
        type=_positive(int),
        default=_DEF.sampling.min_frames,
        help="frames sampled at least, even from short videos (default %(default)s)",
    )
    e.add_argument(
        "--decoder",
        type=_decoder,
        default="pyav",
        help="pyav (default) or opencv; module:Class names a plug-in backend",
    )
    e.add_argument("--workers", type=_positive(int), default=None, help="decoder processes")
    e.add_argument(
        "--file-timeout",
        type=_positive(float),
        default=120.0,
        metavar="SECONDS",
        help="time budget to decode one file (default %(default)s)",
    )
    e.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    e.add_argument("--cache-dir", type=Path, metavar="DIR", help="feature cache folder")
    e.add_argument(
        "--index",
        type=_index_uri,
        default="local",
        metavar="URI",
        help="library index: local (faiss, beside the cache; default), milvus://HOST:PORT or "
        "a Milvus Lite file ./x.db (pip install 'dedup-gui[milvus]')",
    )
    e.add_argument(
        "--memory-budget",
        type=_size,
        default=_DEF.memory_budget,
        metavar="SIZE",
        help="memory for the region vectors refinement holds, made for candidate pairs only "
        "(default 1G, fits an 8 GB laptop; e.g. 512M, 4G)",
    )
    e.add_argument(
        "--retry-failed",
        action="store_true",
        help="retry files that failed to decode in earlier scans",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the flags in the README)."""
    parser = argparse.ArgumentParser(
        prog="dedup-gui",
        description="Find duplicate and near-duplicate videos. No command opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"dedup-gui {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scan", help="scan folders for duplicate videos (headless)")
    s.add_argument("roots", nargs="+", type=Path, metavar="DIR", help="folders (or files) to scan")
    out = s.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="OUT", help="write the full result as JSON")
    out.add_argument("--csv", type=Path, metavar="OUT", help="write one row per duplicate file")
    out.add_argument(
        "--groups-json",
        type=Path,
        metavar="OUT",
        help='write {"groups": [[path, ...]], "pairs": [...]} for bench/evaluate.py',
    )
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    out.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")

    d = s.add_argument_group("which files")
    d.add_argument("--no-recursive", action="store_true", help="do not descend into sub-folders")
    d.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files/folders matching this glob (repeatable), e.g. '*/.Trash*'",
    )
    d.add_argument(
        "--extensions",
        metavar="LIST",
        help="comma-separated extensions to consider (default: common video types)",
    )
    d.add_argument("--min-size", type=_size, default=0, metavar="SIZE", help="e.g. 1M")
    d.add_argument("--max-size", type=_size, default=0, metavar="SIZE", help="e.g. 20G")
    d.add_argument(
        "--min-duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="leave out videos shorter than this",
    )
    d.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links")
    d.add_argument(
        "--reference",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="reference folder: scanned, but its files are never suggested for deletion",
    )

    m = s.add_argument_group("matching")
    m.add_argument(
        "--threshold",
        type=_fraction,
        default=_DEF.match.threshold,
        metavar="T",
        help=f"similarity needed, 0-1 or percent (default {_DEF.match.threshold})",
    )
    m.add_argument(
        "--duration-tolerance",
        type=_fraction,
        default=_DEF.match.duration_tolerance,
        metavar="F",
        help="how much shorter a copy may be, 0-1 (default %(default)s)",
    )
    m.add_argument(
        "--partial",
        action=argparse.BooleanOptionalAction,
        default=_DEF.match.partial,
        help="also find clips cut from longer videos, comparing any durations (default: on; "
        "--no-partial only pairs videos of similar length)",
    )
    m.add_argument("--no-flip", action="store_true", help="do not match mirrored copies")
    m.add_argument(
        "--no-suppress",
        action="store_true",
        help="do not down-weight frames shared by many videos (logos, intros)",
    )
    m.add_argument(
        "--no-rotation",
        action="store_true",
        help="do not look for copies turned by 90, 180 or 270 degrees (faster)",
    )

    add_analysis_arguments(s)

    c = sub.add_parser("cache", help="show or clear the feature cache")
    c.add_argument("--cache-dir", type=Path, metavar="DIR")
    c.add_argument("--clear", action="store_true", help="delete the cache")
    c.add_argument("--forget-failures", action="store_true", help="retry failed files next time")

    lib = sub.add_parser("library", help="show what the library index holds; prune it")
    lib.add_argument("--cache-dir", type=Path, metavar="DIR", help="feature cache folder")
    lib.add_argument("--index", type=_index_uri, default="local", metavar="URI", help="as for scan")
    lib.add_argument("--prune", action="store_true", help="drop entries whose files are gone")
    lib.add_argument("--json", action="store_true", help="print the figures as JSON")

    from dedup_gui import cli_actions

    cli_actions.add_parsers(sub)  # trash RESULT.json, history
    from dedup_gui import cli_find

    cli_find.add_parser(sub)  # find CLIP...
    return parser


def options_from_args(args: argparse.Namespace) -> ScanOptions:
    """Translate parsed flags into :class:`ScanOptions`."""
    exts = VIDEO_EXTENSIONS
    if args.extensions:
        exts = frozenset(
            e.strip().lstrip(".").lower() for e in args.extensions.split(",") if e.strip()
        )
    return ScanOptions(
        discovery=DiscoveryOptions(
            recursive=not args.no_recursive,
            extensions=exts,
            exclude=tuple(args.exclude),
            min_size=args.min_size,
            max_size=args.max_size,
            follow_symlinks=args.follow_symlinks,
        ),
        sampling=SamplingOptions(
            fps=args.fps,
            min_frames=min(args.min_frames, args.max_frames),
            max_frames=args.max_frames,
            size=args.input_size,
            find_picture=not args.no_canvas,
        ),
        model=ModelOptions(
            name=args.model, weights=args.weights, device=args.device, runtime=args.runtime
        ),
        match=MatchOptions(
            threshold=args.threshold,
            duration_tolerance=args.duration_tolerance,
            partial=args.partial,
            flip=not args.no_flip,
            suppress_common=not args.no_suppress,
            rotation=not args.no_rotation,
        ),
        reference_roots=tuple(args.reference),
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        decode_workers=args.workers or _DEF.decode_workers,
        file_timeout=args.file_timeout,
        decoder=args.decoder,
        min_duration=args.min_duration,
        index=args.index,
        memory_budget=args.memory_budget,
    )


class TerminalProgress:
    """A tqdm bar per stage on stderr: stage, done/total, current file, overall ETA."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._stage = ""

    def __call__(self, ev: ProgressEvent) -> None:
        """Show one progress event."""
        if not self.enabled:
            return
        from tqdm import tqdm

        if ev.stage != self._stage:
            self.close()
            self._stage = ev.stage
            self._bar = tqdm(
                total=ev.total or None,
                desc=ev.label,
                unit="file" if ev.stage != "match" else "pair",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
            )
        bar = self._bar
        if ev.total and bar.total != ev.total:
            bar.total = ev.total
        bar.n = ev.done
        post = {}
        if ev.eta is not None:
            post["left"] = _hms(ev.eta)
        if ev.item:
            name = os.path.basename(ev.item)
            post["file"] = name if len(name) <= 32 else name[:29] + "..."
        bar.set_postfix(post, refresh=False)
        bar.refresh()

    def close(self) -> None:
        """Finish the current bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _hms(seconds: float) -> str:
    s = int(seconds)
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _bench_pairs(result: Any) -> list[tuple[str, str, float]]:
    out = []
    for g in result.groups:
        ref = g.reference_member.file.path
        for i, m in enumerate(g.members):
            if i != g.reference:
                out.append((str(ref), str(m.file.path), m.similarity))
    return out


def run_scan(args: argparse.Namespace) -> int:
    """The ``scan`` command."""
    apply_max_isa(args.max_isa)  # before torch or OpenVINO compute anything
    from dedup_gui.core.pipeline import scan
    from dedup_gui.core.review import export

    missing = [r for r in [*args.roots, *args.reference] if not os.path.exists(r)]
    if missing:
        print(f"dedup-gui: error: no such folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return EXIT_USAGE
    for out in (args.json, args.csv, args.groups_json):
        if out is not None and not os.path.isdir(os.path.dirname(os.path.abspath(out))):
            print(f"dedup-gui: error: cannot write {out}: folder does not exist", file=sys.stderr)
            return EXIT_USAGE
    options = options_from_args(args)
    if args.retry_failed and options.use_cache:
        from dedup_gui.core.library.cache import FeatureCache

        with FeatureCache.open(options.cache_dir) as cache:
            cache.forget_failures()
    token = CancelToken()
    bar = TerminalProgress(enabled=(not args.quiet and sys.stderr.isatty()) or args.verbose > 0)

    def on_sigint(signum: int, frame: Any) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        print("\nCancelling (press Ctrl-C again to abort at once)...", file=sys.stderr)
        token.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = scan(args.roots, options, Progress(bar), token)
    except ScanError as exc:
        bar.close()
        print(f"dedup-gui: cannot analyse videos: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    if result.cancelled:
        print(
            "Scan cancelled. Everything analysed so far is cached; the next scan resumes.",
            file=sys.stderr,
        )
        return EXIT_CANCELLED
    opts_dict = {
        "threshold": options.match.threshold,
        "duration_tolerance": options.match.duration_tolerance,
        "partial": options.match.partial,
        "model": options.model.name,
        "sampling": asdict(options.sampling),
        # files under these are never acted on by `trash` (nor marked in the app)
        "reference_roots": [os.path.abspath(r) for r in options.reference_roots],
    }
    if args.json:
        export.write_atomic(args.json, export.to_json(result, opts_dict))
    if args.csv:
        export.write_atomic(args.csv, export.to_csv(result))
    if args.groups_json:
        export.write_atomic(args.groups_json, export.to_bench_json(result, _bench_pairs(result)))
    if not args.quiet:
        _summary(result, args)
    return EXIT_OK


def _summary(result: Any, args: argparse.Namespace) -> None:
    c = result.stats.counts
    reclaim = sum(g.reclaimable for g in result.groups)
    skipped = [p for p in result.problems if p.skipped]
    print(
        f"{c.get('files', 0)} files, {c.get('videos', 0)} videos analysed "
        f"({c.get('cache_hits', 0)} from cache), {len(result.groups)} duplicate groups, "
        f"{_human(reclaim)} reclaimable, {len(skipped)} files skipped."
    )
    if not (args.json or args.csv or args.groups_json):
        for g in result.groups:
            print(f"\nGroup {g.id} ({g.kind}, {_human(g.reclaimable)} reclaimable):")
            for i, m in enumerate(g.members):
                tag = "keep" if i == g.keep else f"{m.similarity:.0%}"
                print(f"  [{tag:>4}] {m.file.path}")
    for p in skipped[:20]:
        print(f"skipped: {p.path}: {p.reason}", file=sys.stderr)
    if len(skipped) > 20:
        print(f"... and {len(skipped) - 20} more skipped files (see --json)", file=sys.stderr)


def run_cache(args: argparse.Namespace) -> int:
    """The ``cache`` command."""
    from dedup_gui.core.library.cache import CACHE_FILE, FeatureCache, default_cache_dir

    folder = args.cache_dir or default_cache_dir()
    if args.clear:
        for suffix in ("", "-wal", "-shm"):
            p = Path(folder) / (CACHE_FILE + suffix)
            if p.exists():
                p.unlink()
        # the library index is built from the cached features: it goes with them
        for p in Path(folder).glob("library-*") if Path(folder).is_dir() else []:
            if p.is_file() and p.name.endswith(
                (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".faiss")
            ):
                p.unlink()
        print(f"cleared {folder}")
        return EXIT_OK
    with FeatureCache.open(folder) as cache:
        if args.forget_failures:
            cache.forget_failures()
        st = cache.stats()
    print(f"{cache.path}: {st['entries']} videos, {st['failures']} failures, {_human(st['bytes'])}")
    return EXIT_OK


def run_library(args: argparse.Namespace) -> int:
    """The ``library`` command: what is indexed, per feature key; ``--prune``."""
    import json

    from dedup_gui.core.index.library import find_libraries
    from dedup_gui.core.library.cache import default_cache_dir

    folder = Path(args.cache_dir or default_cache_dir())
    report = []
    try:
        libraries = find_libraries(folder, args.index) if folder.is_dir() else []
        for lib in libraries:
            with lib:
                lib.open_backend()
                pruned = [str(p) for p in lib.prune()] if args.prune else []
                st = lib.stats()
                st["pruned"] = pruned
                report.append(st)
    except ScanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return EXIT_OK
    if not report:
        print(f"no library index in {folder} ({args.index})")
    for st in report:
        print(
            f"{st['videos']} videos, {st['frames']} frames, {_human(float(st['bytes']))} on disk "
            f"[{st['backend']}: {st['kind']}] {st['location']}"
        )
        print(f"  features: {st['feature_key']}")
        print(f"  vector space: {st['space']}")
        if args.prune:
            print(f"  pruned {len(st['pruned'])} missing files")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(getattr(args, "verbose", 0), 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "scan":
        return run_scan(args)
    if args.command == "cache":
        return run_cache(args)
    if args.command == "find":
        from dedup_gui import cli_find

        return cli_find.run_find(args)
    if args.command == "library":
        return run_library(args)
    if args.command in ("trash", "history"):
        from dedup_gui import cli_actions

        return (cli_actions.run_trash if args.command == "trash" else cli_actions.run_history)(args)
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE
