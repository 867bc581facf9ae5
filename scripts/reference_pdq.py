"""Reference matcher: one PDQ hash per second of video, vPDQ-style matching (a speed yardstick).

    .venv/bin/python scripts/reference_pdq.py FOLDER... [--json OUT] [--groups-json OUT]

This reimplements the vPDQ approach of Meta's ThreatExchange (``vpdq/README.md`` there) so the
benchmark can time it on the same folder as our own scan:

* **Hashing.** Every video is decoded sequentially with PyAV (vPDQ decodes every frame with
  FFmpeg too); the frame nearest each whole second (``fps`` frames per second) is converted to
  RGB, downscaled to at most 512 px, and hashed with PDQ (the ``pdqhash`` package, Facebook's
  C++ PDQ). Files are spread over a pool of ``workers`` processes.
* **Matching.** Frames with PDQ quality below 50 are dropped and exactly repeated hashes are kept
  once (vPDQ's ``quality_filter`` and ``dedupe``). For videos A and B, the share of A's frames
  with a frame of B within Hamming distance ``threshold`` (31, ``<=``) is computed, and likewise
  for B. vPDQ's documented rule for a query Q against a compared video C is
  ``share(C) >= 80% and share(Q) >= 0%``; a library scan has no query side, so a pair matches
  when that rule holds in either direction (``match_share=0.8``, ``query_share=0.0``).
  ``match_share=query_share=0.5`` asks both videos to be half covered instead. The search is
  exact and brute force, all frames against all frames (no candidate pruning): with FAISS (a
  project dependency) it is an ``IndexBinaryFlat`` range search, as in ThreatExchange's own
  ``vpdq_faiss.py``; without it, numpy XORs and popcounts the hashes as uint64 words, blockwise.
  Groups are connected components of matching pairs.

If ``pdqhash`` is not installed, a 64-bit pHash per frame (DCT of a 32x32 grey frame, 8x8 low
frequencies against their median) is used instead, with no quality filter and a default
threshold of 10; the result says which method ran.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

VIDEO_EXTENSIONS = frozenset(
    (
        ".mp4",
        ".m4v",
        ".mkv",
        ".avi",
        ".mov",
        ".webm",
        ".wmv",
        ".flv",
        ".mpg",
        ".mpeg",
        ".ts",
        ".3gp",
    )
)
MAX_SIDE = 512  # frames are downscaled to at most this many pixels per side before hashing
PDQ_THRESHOLD = 31  # vPDQ's VPDQ_DISTANCE_THRESHOLD (a frame matches at distance <= 31)
PHASH_THRESHOLD = 10  # the 64-bit fallback's counterpart
QUALITY_THRESHOLD = 50  # vPDQ's VPDQ_QUALITY_THRESHOLD (frames below it are not compared)
MATCH_SHARE = 0.8  # vPDQ's comparison-video match percentage (80%)
QUERY_SHARE = 0.0  # vPDQ's query-video match percentage (0%)
BLOCK_BYTES = 32 << 20  # size of one block of pairwise distances during matching


def pdq_available() -> bool:
    """Tell whether the ``pdqhash`` package can be imported.

    Returns:
        True when PDQ hashing is available, False when the pHash fallback must be used.
    """
    try:
        import pdqhash  # noqa: F401
    except ImportError:
        return False
    return True


def faiss_available() -> bool:
    """Tell whether ``faiss`` can be imported (for the FAISS matcher).

    Returns:
        True when FAISS is available.
    """
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def discover(folders: Iterable[Path]) -> list[Path]:
    """List the video files under some folders, recursively, by extension.

    Args:
        folders: Folders to walk (a file given directly is taken if it has a video extension).

    Returns:
        The distinct video files found, sorted by path.
    """
    found: set[Path] = set()
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            if folder.suffix.lower() in VIDEO_EXTENSIONS:
                found.add(folder.resolve())
            continue
        for dirpath, _dirnames, filenames in os.walk(folder):
            for name in filenames:
                if os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS:
                    found.add(Path(dirpath, name).resolve())
    return sorted(found)


def _target_size(width: int, height: int) -> tuple[int, int] | None:
    """Return the downscaled size of a frame, or None when it is small enough already."""
    side = max(width, height)
    if side <= MAX_SIDE:
        return None
    scale = MAX_SIDE / side
    return max(2, round(width * scale)), max(2, round(height * scale))


def _hash_pdq(frame: Any) -> tuple[np.ndarray, int]:
    """Hash one decoded frame with PDQ.

    Args:
        frame: A PyAV video frame.

    Returns:
        The 256-bit hash packed into 32 bytes, and PDQ's quality (0-100).
    """
    import pdqhash

    size = _target_size(frame.width, frame.height)
    if size is None:
        rgb = frame.to_ndarray(format="rgb24")
    else:
        rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1], interpolation="AREA")
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(np.asarray(bits, dtype=np.uint8)), int(quality)


def _hash_phash(frame: Any) -> tuple[np.ndarray, int]:
    """Hash one decoded frame with a 64-bit DCT pHash (the fallback when PDQ is missing).

    Args:
        frame: A PyAV video frame.

    Returns:
        The 64-bit hash packed into 8 bytes, and a nominal quality of 100 (no quality measure).
    """
    import cv2

    size = _target_size(frame.width, frame.height)
    if size is None:
        grey = frame.to_ndarray(format="gray")
    else:
        grey = frame.to_ndarray(format="gray", width=size[0], height=size[1], interpolation="AREA")
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    return np.packbits((low > np.median(low)).ravel()), 100


def hash_video(
    path: str, fps: float = 1.0, method: str = "pdq"
) -> tuple[str, np.ndarray | None, np.ndarray | None, int, str | None]:
    """Decode one video sequentially and hash the frame nearest each ``1 / fps`` seconds.

    Args:
        path: The video file.
        fps: Hashed frames per second of video.
        method: ``"pdq"`` or ``"phash"``.

    Returns:
        ``(path, hashes, qualities, frames_decoded, message)``: the packed hashes (one row a
        frame, uint8) and their qualities, or None for both when the file cannot be read; the
        message explains a failure or a decoding error part-way (the frames before it are kept).
    """
    import av

    hasher = _hash_pdq if method == "pdq" else _hash_phash
    hashes: list[np.ndarray] = []
    qualities: list[int] = []
    decoded = 0
    message: str | None = None
    try:
        container = av.open(path)
    except Exception as exc:
        return path, None, None, 0, f"cannot open: {exc}"
    try:
        if not container.streams.video:
            return path, None, None, 0, "no video stream"
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        frame_step = 1.0 / float(rate) if rate else 1.0 / 25.0
        interval = 1.0 / fps
        t0: float | None = None
        k = 0  # index of the next whole-interval target
        prev: Any = None
        prev_t = 0.0
        last_hashed: Any = None

        def take(frame: Any) -> None:
            nonlocal last_hashed
            if frame is not last_hashed:
                h, q = hasher(frame)
                hashes.append(h)
                qualities.append(q)
                last_hashed = frame

        try:
            for frame in container.decode(stream):
                ft = frame.time
                if ft is None:
                    t = decoded * frame_step
                else:
                    if t0 is None:
                        t0 = ft
                    t = ft - t0
                decoded += 1
                target = k * interval
                while t >= target:
                    # the frame nearest the target: this one or the one decoded before it
                    if prev is not None and target - prev_t < t - target:
                        take(prev)
                    else:
                        take(frame)
                    k += 1
                    target = k * interval
                prev, prev_t = frame, t
        except Exception as exc:  # a broken packet part-way: keep what was hashed
            message = f"decoding stopped after {decoded} frames: {exc}"
    except Exception as exc:
        return path, None, None, decoded, f"cannot decode: {exc}"
    finally:
        container.close()
    if not hashes:
        return path, None, None, decoded, message or "no frames decoded"
    return path, np.stack(hashes), np.asarray(qualities, dtype=np.int16), decoded, message


def _hash_video_star(args: tuple[str, float, str]) -> tuple[Any, ...]:
    """Unpack the arguments of :func:`hash_video` (for ``Pool.imap_unordered``)."""
    return hash_video(*args)


def _popcount_words(x: np.ndarray) -> np.ndarray:
    """Count the set bits of every uint64 element (numpy >= 2 has a native popcount)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[x.view(np.uint8)].reshape(*x.shape, 8).sum(axis=-1, dtype=np.uint8)


def match_counts(hashes: Sequence[np.ndarray], threshold: int) -> np.ndarray:
    """Count, for every ordered pair of videos, the frames of one with a close frame in the other.

    Args:
        hashes: One array per video of packed frame hashes (rows of 8 or 32 bytes), each with
            at least one row.
        threshold: A frame matches a frame of the other video at Hamming distance <= threshold.

    Returns:
        ``counts[a, b]``: how many frames of video ``a`` have a frame of video ``b`` within the
        threshold (int64, shape ``(n, n)``; the diagonal is meaningless).
    """
    n = len(hashes)
    lengths = np.array([len(h) for h in hashes], dtype=np.int64)
    words = np.ascontiguousarray(np.concatenate(hashes)).view(np.uint64)  # (frames, W)
    total, n_words = words.shape
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    video_of = np.repeat(np.arange(n), lengths)
    counts = np.zeros((n, n), dtype=np.int64)
    block = max(1, BLOCK_BYTES // (8 * total))
    cols = [np.ascontiguousarray(words[:, w]) for w in range(n_words)]
    for r0 in range(0, total, block):
        r1 = min(total, r0 + block)
        dist = np.zeros((r1 - r0, total), dtype=np.uint16)
        for w in range(n_words):
            dist += _popcount_words(cols[w][r0:r1, None] ^ cols[w][None, :])
        close = dist <= threshold
        # does each frame of the block have a close frame in each video?
        hit = np.logical_or.reduceat(close, starts, axis=1)
        vids = video_of[r0:r1]
        seg = np.concatenate([[0], np.flatnonzero(np.diff(vids)) + 1])
        counts[vids[seg]] += np.add.reduceat(hit.astype(np.int64), seg, axis=0)
    return counts


def match_counts_faiss(hashes: Sequence[np.ndarray], threshold: int) -> np.ndarray:
    """The same counts as :func:`match_counts`, from a FAISS binary range search.

    This is how ThreatExchange's own vPDQ index matches (``vpdq_faiss.py``: an
    ``IndexBinaryFlat`` and ``range_search`` with radius ``threshold + 1``); the search is exact,
    so the counts equal the numpy ones.

    Args:
        hashes: One array per video of packed frame hashes (rows of 8 or 32 bytes), each with
            at least one row.
        threshold: A frame matches a frame of the other video at Hamming distance <= threshold.

    Returns:
        ``counts[a, b]``: how many frames of video ``a`` have a frame of video ``b`` within the
        threshold (int64, shape ``(n, n)``).
    """
    import faiss

    n = len(hashes)
    lengths = np.array([len(h) for h in hashes], dtype=np.int64)
    codes = np.ascontiguousarray(np.concatenate(hashes))
    total = len(codes)
    video_of = np.repeat(np.arange(n), lengths)
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(codes)
    counts = np.zeros(n * n, dtype=np.int64)
    block = 8192
    for r0 in range(0, total, block):
        r1 = min(total, r0 + block)
        lims, _dist, ids = index.range_search(codes[r0:r1], threshold + 1)
        rows = np.repeat(np.arange(r0, r1), np.diff(lims.astype(np.int64)))
        # one hit per (frame, video it found a close frame in)
        keys = np.unique(rows * n + video_of[ids])
        counts += np.bincount(video_of[keys // n] * n + keys % n, minlength=n * n)
    return counts.reshape(n, n)


def group_pairs(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of a graph given by its edges.

    Args:
        n: Number of nodes.
        pairs: Edges between node indices.

    Returns:
        The components with two or more nodes, each sorted, in order of their first node.
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(find(i), []).append(i)
    return sorted((c for c in comps.values() if len(c) > 1), key=lambda c: c[0])


def run(
    folders: list[Path],
    workers: int = 2,
    fps: float = 1.0,
    threshold: int | None = None,
    match_share: float = MATCH_SHARE,
    query_share: float = QUERY_SHARE,
    method: str = "auto",
    matcher: str = "auto",
    verbose: bool = True,
) -> dict[str, Any]:
    """Find groups of matching videos with per-second PDQ hashes and vPDQ matching.

    Args:
        folders: Folders to scan recursively for video files.
        workers: Decoding/hashing processes (files are spread over them; 1 = in this process).
        fps: Hashed frames per second of video (vPDQ's default is 1).
        threshold: Frame match distance, ``<=``; None = 31 for PDQ (vPDQ's default), 10 for the
            64-bit pHash fallback.
        match_share: Share of one video's frames that must be found in the other (vPDQ's
            comparison-video percentage, 80% by default).
        query_share: Share of the other video's frames that must be found in the first (vPDQ's
            query-video percentage, 0% by default). A pair matches when the two shares reach
            ``match_share`` and ``query_share`` in either order.
        method: ``"auto"`` (PDQ if ``pdqhash`` imports, else pHash), ``"pdq"`` or ``"phash"``.
        matcher: ``"auto"`` (FAISS if it imports, else numpy), ``"faiss"`` or ``"numpy"``; both
            are exact brute-force searches and give the same groups.
        verbose: Print a line on stderr for every file that is skipped.

    Returns:
        ``{"method", "files", "frames", "seconds": {"decode_hash", "match", "total"},
        "groups": [[path, ...], ...]}`` plus details: ``frames_decoded`` (all frames the
        decoder produced), ``frames_matched`` (frames left after the quality filter and
        de-duplication), ``skipped`` (files that could not be read, with the reason),
        ``unmatchable`` (files without a frame of sufficient quality), ``pairs`` (matching
        pairs) and the parameters used.
    """
    t_start = time.perf_counter()
    if method == "auto":
        method = "pdq" if pdq_available() else "phash"
    if method not in ("pdq", "phash"):
        raise ValueError(f"unknown method {method!r}")
    if matcher == "auto":
        matcher = "faiss" if faiss_available() else "numpy"
    if matcher not in ("faiss", "numpy"):
        raise ValueError(f"unknown matcher {matcher!r}")
    if threshold is None:
        threshold = PDQ_THRESHOLD if method == "pdq" else PHASH_THRESHOLD
    files = discover(folders)
    # biggest files first, so that no worker is left with a long file at the end
    order = sorted(files, key=lambda p: -p.stat().st_size)
    jobs = [(str(p), fps, method) for p in order]

    t_hash = time.perf_counter()
    results: dict[str, tuple[Any, ...]] = {}
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            results[job[0]] = hash_video(*job)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(min(workers, len(jobs))) as pool:
            for res in pool.imap_unordered(_hash_video_star, jobs, chunksize=1):
                results[res[0]] = res
    decode_hash_s = time.perf_counter() - t_hash

    t_match = time.perf_counter()
    skipped: list[dict[str, str]] = []
    unmatchable: list[str] = []
    paths: list[str] = []
    kept: list[np.ndarray] = []
    frames = decoded = 0
    for p in files:
        path, hashes, quals, n_decoded, message = results[str(p)]
        decoded += n_decoded
        if hashes is None:
            skipped.append({"path": path, "reason": message or "unreadable"})
            if verbose:
                print(f"skipped {path}: {message}", file=sys.stderr)
            continue
        if message and verbose:
            print(f"warning {path}: {message}", file=sys.stderr)
        frames += len(hashes)
        if method == "pdq":
            hashes = hashes[quals >= QUALITY_THRESHOLD]
        if len(hashes) == 0:
            unmatchable.append(path)
            continue
        paths.append(path)
        kept.append(np.unique(hashes, axis=0))  # vPDQ's dedupe of repeated hashes
    pairs: list[tuple[int, int]] = []
    if len(kept) > 1:
        count = match_counts_faiss if matcher == "faiss" else match_counts
        counts = count(kept, threshold)
        lengths = np.array([len(h) for h in kept], dtype=np.float64)
        share = counts / lengths[:, None]  # share[a, b]: part of a's frames found in b
        eps = 1e-9
        found_in = share.T  # found_in[a, b]: part of b's frames found in a
        one_way = (found_in >= match_share - eps) & (share >= query_share - eps)
        ok = one_way | one_way.T
        np.fill_diagonal(ok, False)
        pairs = [(int(a), int(b)) for a, b in zip(*np.nonzero(np.triu(ok, 1)), strict=True)]
    groups = [[paths[i] for i in comp] for comp in group_pairs(len(paths), pairs)]
    match_s = time.perf_counter() - t_match

    return {
        "method": method,
        "files": len(files),
        "frames": frames,
        "seconds": {
            "decode_hash": round(decode_hash_s, 3),
            "match": round(match_s, 3),
            "total": round(time.perf_counter() - t_start, 3),
        },
        "groups": groups,
        "frames_decoded": decoded,
        "frames_matched": int(sum(len(h) for h in kept)),
        "skipped": skipped,
        "unmatchable": unmatchable,
        "pairs": [[paths[a], paths[b]] for a, b in pairs],
        "params": {
            "matcher": matcher,
            "workers": workers,
            "fps": fps,
            "threshold": threshold,
            "match_share": match_share,
            "query_share": query_share,
            "quality_threshold": QUALITY_THRESHOLD if method == "pdq" else None,
            "max_side": MAX_SIDE,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: scan folders, print a one-line summary, optionally write JSON.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--workers", type=int, default=2, help="hashing processes (default 2)")
    ap.add_argument("--fps", type=float, default=1.0, help="hashed frames per second (default 1)")
    ap.add_argument("--threshold", type=int, help="frame distance, <= (default 31 PDQ, 10 pHash)")
    ap.add_argument("--match-share", type=float, default=MATCH_SHARE, help="default 0.8")
    ap.add_argument("--query-share", type=float, default=QUERY_SHARE, help="default 0.0")
    ap.add_argument("--method", choices=["auto", "pdq", "phash"], default="auto")
    ap.add_argument("--matcher", choices=["auto", "faiss", "numpy"], default="auto")
    ap.add_argument("--json", type=Path, help="write the whole result here")
    ap.add_argument("--groups-json", type=Path, help='write {"groups": [[path, ...], ...]} here')
    args = ap.parse_args(argv)
    if args.fps <= 0 or not math.isfinite(args.fps):
        ap.error("--fps must be a positive number")

    res = run(
        args.folders,
        workers=args.workers,
        fps=args.fps,
        threshold=args.threshold,
        match_share=args.match_share,
        query_share=args.query_share,
        method=args.method,
        matcher=args.matcher,
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    if args.groups_json:
        args.groups_json.write_text(json.dumps({"groups": res["groups"]}, indent=1) + "\n")
    s = res["seconds"]
    print(
        f"method={res['method']} matcher={res['params']['matcher']} "
        f"files={res['files']} frames={res['frames']} "
        f"groups={len(res['groups'])} skipped={len(res['skipped'])} "
        f"decode_hash={s['decode_hash']:.2f}s match={s['match']:.2f}s total={s['total']:.2f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
