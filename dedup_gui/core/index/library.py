"""The library index: a ledger (SQLite) of indexed videos beside a vector backend.

The ledger remembers, per feature key, each indexed video (a stable int64 id for its path,
size and mtime_ns, its frame count and views) and what its own search found when it was new:
its candidate pairs (the other video, hits, best similarity, and the frames of each video
close to the other at each cover similarity) and its close frames (frame, other video) at
the commonness threshold. Close frames are symmetric, so a new video's range search also adds
itself to the close frames of the old videos it hits; nothing old is searched again.

A scan (:meth:`Library.neighbours`) then:

1. removes videos whose file changed (same path, other size or mtime) and gives them new ids;
2. adds the new videos' frame vectors and searches only them (kNN and range search) against
   the whole index, the new ones included;
3. answers :class:`~dedup_gui.core.match.candidates.Neighbours` for the videos of this scan
   from the ledger: stored pairs of unchanged videos, the new pairs, and commonness counted
   over this scan's videos (families as in :func:`~.candidates.family_commonness`).

Vectors are in a fixed space (the recipe's prior whitening), named in the ledger with the
feature key, the backend's dimension and :data:`INDEX_VERSION`; a mismatch drops the index
and the ledger, which are rebuilt from the features of the scan (features come from the
feature cache, so a rebuild decodes nothing).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dedup_gui.core.errors import IndexUnavailable
from dedup_gui.core.index.base import FRAME_BITS, VectorIndex, video_of
from dedup_gui.core.match import candidates as knn
from dedup_gui.core.match.rotation import PROBE_DIM
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

log = logging.getLogger(__name__)

INDEX_VERSION = 3  # 2: per-pair frame covers, views per video; 3: probe signatures
BATCH = 2048  # query frames per backend call (their range results are held at once)
CHUNK_VIDEOS = 2000  # new videos whose vectors are in memory at once

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    n_frames INTEGER NOT NULL,
    n_views INTEGER NOT NULL DEFAULT 1,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS found (
    video INTEGER PRIMARY KEY,
    pair_other BLOB NOT NULL,
    pair_hits BLOB NOT NULL,
    pair_best BLOB NOT NULL,
    close_frame BLOB NOT NULL,
    close_other BLOB NOT NULL,
    pair_cover BLOB NOT NULL DEFAULT x''
);
CREATE TABLE IF NOT EXISTS probes (video INTEGER PRIMARY KEY, sigs BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS twins (
    path BLOB PRIMARY KEY,
    video INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_size ON videos (size);
CREATE INDEX IF NOT EXISTS twins_size ON twins (size);
CREATE INDEX IF NOT EXISTS twins_video ON twins (video);
"""
# columns an older ledger lacks: such a ledger is dropped and rebuilt
_REQUIRED = {
    "videos": {"n_views"},
    "found": {"pair_cover"},
    "probes": {"sigs"},
    "twins": {"video", "size"},
}
IN_CHUNK = 500  # ids per ``WHERE video IN (...)`` read


class FileLike(Protocol):
    """What the ledger needs of a file (``VideoFile`` and ``VideoInfo`` have it)."""

    @property
    def path(self) -> Path: ...  # noqa: D102

    @property
    def size(self) -> int: ...  # noqa: D102

    @property
    def mtime_ns(self) -> int: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class Found:
    """One video's stored search results (see the module docstring)."""

    pair_other: np.ndarray  # int64 video ids
    pair_hits: np.ndarray  # int32
    pair_best: np.ndarray  # float32
    close_frame: np.ndarray  # int32 frame index within this video
    close_other: np.ndarray  # int64 video ids
    # (n_pairs, 2, levels) int32: frames of this video close to the other at each cover
    # level, then frames of the other close to this one
    pair_cover: np.ndarray

    @staticmethod
    def empty(levels: int = 0) -> Found:
        """No results."""
        e = np.zeros(0, np.int64)
        return Found(e, np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.int32), e,
                     np.zeros((0, 2, levels), np.int32))  # fmt: skip


def _unique_rows(x: np.ndarray) -> np.ndarray:
    """Unique columns of a (3, m) int64 array, sorted by rows 0, 1, 2 (faster than np.unique)."""
    if x.shape[1] == 0:
        return x
    x = x[:, np.lexsort((x[2], x[1], x[0]))]
    keep = np.ones(x.shape[1], bool)
    keep[1:] = np.any(x[:, 1:] != x[:, :-1], axis=0)
    return x[:, keep]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def backend_kind(uri: str) -> str:
    """``local`` for the faiss backend, ``milvus`` for a Milvus server or Milvus Lite file."""
    if uri in ("", "local", "memory"):
        return "local"
    if uri.startswith(("milvus://", "http://", "https://", "tcp://")) or uri.endswith(".db"):
        return "milvus"
    raise IndexUnavailable(
        f"unknown index {uri!r}: use 'local', milvus://HOST:PORT or a Milvus Lite file ending "
        "in .db"
    )


def milvus_uri(uri: str) -> str:
    """The pymilvus URI of an ``--index`` value (``milvus://h:p`` -> ``http://h:p``)."""
    if uri.startswith("milvus://"):
        return "http://" + uri[len("milvus://") :]
    if uri.endswith(".db"):
        return os.path.abspath(uri)
    return uri


class Library:
    """The ledger and its vector backend; see the module docstring.

    Use :func:`open_library`. One writer: the scanning thread.

    Args:
        conn: The ledger database (a file, or ``:memory:``).
        make_backend: Builds the vector backend for a dimension.
        feature_key: The feature key whose vectors this library holds.
        uri: The ``--index`` value it was opened with.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        make_backend: Callable[[int], VectorIndex],
        feature_key: str,
        uri: str,
        ledger_path: Path | None,
    ) -> None:
        self._conn = conn
        self._make_backend = make_backend
        self.feature_key = feature_key
        self.uri = uri
        self.ledger_path = ledger_path
        self._backend: VectorIndex | None = None
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    # -- meta ----------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The ledger's metadata record (version, feature key, space, dimension, backend)."""
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def prepare(self, space: str, dim: int, search: str = "") -> VectorIndex:
        """Open the backend for vectors of ``space``; drop everything that does not fit.

        ``search`` names the search settings (k and thresholds) the stored results were found
        with: other settings mean other stored results, so a change rebuilds too.
        """
        want = {
            "version": str(INDEX_VERSION),
            "feature_key": self.feature_key,
            "space": space,
            "dim": str(dim),
            "backend": backend_kind(self.uri),
            "search": search,
        }
        if self._backend is None:
            self._backend = self._make_backend(dim)
        have = self.meta()
        frames = self._conn.execute("SELECT COALESCE(SUM(n_frames), 0) FROM videos").fetchone()[0]
        if have == want and self._backend.count() != frames:
            # the vectors and the ledger disagree (a crash between their writes): rebuild
            log.warning(
                "library index holds %d frames, its ledger %d", self._backend.count(), frames
            )
            have = {}
            self.counts["index_rebuilt"] = 1
        if have != want:
            if have or self._backend.count():
                log.info("library index does not fit (%s vs %s): rebuilding", have, want)
                self.counts["index_rebuilt"] = 1
            self._backend.drop()
            with self._conn:
                self._conn.execute("DELETE FROM videos")
                self._conn.execute("DELETE FROM found")
                self._conn.execute("DELETE FROM probes")
                self._conn.execute("DELETE FROM twins")
                self._conn.execute("DELETE FROM meta")
                self._conn.executemany("INSERT INTO meta VALUES (?, ?)", want.items())
        return self._backend

    def open_backend(self) -> VectorIndex | None:
        """Open the backend as the ledger describes it (no rebuild); None for an empty ledger."""
        meta = self.meta()
        if self._backend is None and "dim" in meta:
            self._backend = self._make_backend(int(meta["dim"]))
        return self._backend

    @property
    def backend(self) -> VectorIndex | None:
        """The vector backend, once :meth:`prepare` has opened it."""
        return self._backend

    # -- the ledger ----------------------------------------------------------------------
    def videos(self) -> list[tuple[int, Path, int, int, int]]:
        """(id, path, size, mtime_ns, n_frames) of every indexed video."""
        rows = self._conn.execute("SELECT id, path, size, mtime_ns, n_frames FROM videos")
        return [(int(i), Path(os.fsdecode(p)), int(s), int(m), int(n)) for i, p, s, m, n in rows]

    def rows(self) -> list[tuple[int, bytes, int, int]]:
        """(id, path as bytes, size, mtime_ns) of every indexed video, by path."""
        return self._conn.execute(
            "SELECT id, path, size, mtime_ns FROM videos ORDER BY path"
        ).fetchall()

    def set_twins(self, sets: Iterable[tuple[FileLike, Sequence[FileLike]]]) -> None:
        """Record the byte-identical copies of indexed videos (a scan analyses one of each set).

        Args:
            sets: (indexed file, its identical copies) per set; files not indexed are skipped.
        """
        ids = {bytes(p): int(i) for i, p in self._conn.execute("SELECT id, path FROM videos")}
        rows, reps = [], []
        for rep, copies in sets:
            vid = ids.get(os.fsencode(rep.path))
            if vid is None:
                continue
            reps.append((vid,))
            rows += [(os.fsencode(c.path), vid, int(c.size)) for c in copies]
        with self._conn:
            self._conn.executemany("DELETE FROM twins WHERE video=?", reps)
            self._conn.executemany("INSERT OR REPLACE INTO twins VALUES (?, ?, ?)", rows)

    def same_size(self, size: int) -> list[Path]:
        """Indexed videos and their recorded identical copies of ``size`` bytes."""
        rows = self._conn.execute(
            "SELECT path FROM videos WHERE size=? UNION SELECT path FROM twins WHERE size=?",
            (int(size), int(size)),
        )
        return [Path(os.fsdecode(bytes(p))) for (p,) in rows]

    def stats(self) -> dict[str, Any]:
        """What is indexed: videos, frames, bytes on disk, keys and backend."""
        n_videos, n_frames = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_frames), 0) FROM videos"
        ).fetchone()
        ledger = self.ledger_path.stat().st_size if self.ledger_path else 0
        backend = self._backend
        return {
            "videos": int(n_videos),
            "frames": int(n_frames),
            "index_frames": backend.count() if backend else None,
            "bytes": ledger + (backend.size_bytes() if backend else 0),
            "feature_key": self.meta().get("feature_key", self.feature_key),
            "space": self.meta().get("space", ""),
            "backend": backend_kind(self.uri),
            "location": backend.location if backend else self.uri,
            "kind": backend.describe() if backend else "",
        }

    def remove(self, video_ids: Sequence[int]) -> None:
        """Forget videos: their vectors, ledger rows and stored results."""
        ids = [int(v) for v in video_ids]
        if not ids:
            return
        backend = self.open_backend()
        if backend is not None:
            backend.remove(ids)
        with self._conn:
            self._conn.executemany("DELETE FROM videos WHERE id=?", [(v,) for v in ids])
            self._conn.executemany("DELETE FROM found WHERE video=?", [(v,) for v in ids])
            self._conn.executemany("DELETE FROM probes WHERE video=?", [(v,) for v in ids])
            self._conn.executemany("DELETE FROM twins WHERE video=?", [(v,) for v in ids])
        # references from other videos' results are filtered when read (ids are never reused)

    def prune(self, roots: Iterable[Path] | None = None) -> list[Path]:
        """Forget indexed videos whose file is gone (only under ``roots`` when given)."""
        root_list = list(roots) if roots is not None else None

        def under(path: Path) -> bool:
            return root_list is None or any(path.is_relative_to(r) for r in root_list)

        gone = [(vid, path) for vid, path, *_ in self.videos() if under(path) and not path.exists()]
        self.remove([vid for vid, _ in gone])
        return [p for _, p in gone]

    def _lookup(self, files: Sequence[FileLike]) -> tuple[list[int | None], list[int]]:
        """Ids of unchanged files (None for new ones) and the ids of changed files."""
        # a video without stored results was never fully searched (a cancelled scan): again
        known = {
            os.fsencode(p): (int(i), int(s), int(m), bool(done))
            for i, p, s, m, done in self._conn.execute(
                "SELECT v.id, v.path, v.size, v.mtime_ns, f.video IS NOT NULL "
                "FROM videos v LEFT JOIN found f ON f.video = v.id"
            )
        }
        ids: list[int | None] = []
        changed: list[int] = []
        for f in files:
            hit = known.get(os.fsencode(f.path))
            if hit is not None and (hit[1], hit[2], hit[3]) == (f.size, f.mtime_ns, True):
                ids.append(hit[0])
            else:
                ids.append(None)
                if hit is not None:
                    changed.append(hit[0])
        return ids, changed

    def _rows(self, select: str, column: str, ids: Iterable[int]) -> Iterable[Any]:
        """The rows of ``select`` whose ``column`` is one of ``ids``.

        A few ids are read by key; many, in one pass over every row (the caller filters).
        """
        wanted = sorted({int(v) for v in ids})
        if len(wanted) > 20 * IN_CHUNK:
            return self._conn.execute(select)
        chunks = [wanted[lo : lo + IN_CHUNK] for lo in range(0, len(wanted), IN_CHUNK)]
        return (
            row
            for c in chunks
            for row in self._conn.execute(
                f"{select} WHERE {column} IN ({','.join('?' * len(c))})", c
            )
        )

    def _read_found(self, ids: Sequence[int], levels: int) -> dict[int, Found]:
        out: dict[int, Found] = {}
        wanted = set(int(v) for v in ids)
        cols = (
            "SELECT video, pair_other, pair_hits, pair_best, close_frame, close_other, "
            "pair_cover FROM found"
        )
        for row in self._rows(cols, "video", wanted):
            if int(row[0]) in wanted:
                out[int(row[0])] = Found(
                    np.frombuffer(row[1], np.int64),
                    np.frombuffer(row[2], np.int32),
                    np.frombuffer(row[3], np.float32),
                    np.frombuffer(row[4], np.int32),
                    np.frombuffer(row[5], np.int64),
                    _cover(row[6], len(row[1]) // 8, levels),
                )
        return out

    def found(self, video_ids: Sequence[int]) -> dict[int, Found]:
        """The stored search results of these videos (those that have them), without covers."""
        return self._read_found(video_ids, 0)

    def probes(self) -> tuple[np.ndarray, np.ndarray]:
        """Every video's probe signatures: (n,) int64 video ids and (n, d) float32 rows."""
        rows = self._conn.execute("SELECT video, sigs FROM probes").fetchall()
        width = 2 * PROBE_DIM  # bytes of one float16 signature
        rows = [(v, b) for v, b in rows if b and len(b) % width == 0]
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, PROBE_DIM), np.float32)
        counts = np.array([len(b) // width for _, b in rows], np.int64)
        owner = np.repeat(np.array([v for v, _ in rows], np.int64), counts)
        sigs = np.frombuffer(b"".join(b for _, b in rows), np.float16).reshape(-1, PROBE_DIM)
        return owner, sigs.astype(np.float32)

    def commonness(self, video_id: int, among: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """How many families of other videos share each frame of one indexed video.

        Counted as a scan counts it (:func:`~.candidates.family_commonness`), over the video
        and the videos its frames are close to for which ``among`` (a mask over video ids) is
        true: families are found within that neighbourhood.

        Returns:
            (n_frames,) int32 counts, over the video's indexed frames (all views in turn).
        """
        own = self._read_found([video_id], 0).get(video_id)
        if own is None:
            row = self._conn.execute(
                "SELECT n_frames FROM videos WHERE id=?", (video_id,)
            ).fetchone()
            return np.zeros(int(row[0]) if row else 0, np.int32)
        others = np.unique(own.close_other)
        others = others[(others != video_id) & among(others)]
        ids = np.concatenate([np.array([video_id], np.int64), others])
        return self._answer(ids, 0).commonness[0]

    def _write_found(self, found: dict[int, Found]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO found VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    v,
                    f.pair_other.astype(np.int64).tobytes(),
                    f.pair_hits.astype(np.int32).tobytes(),
                    f.pair_best.astype(np.float32).tobytes(),
                    f.close_frame.astype(np.int32).tobytes(),
                    f.close_other.astype(np.int64).tobytes(),
                    np.ascontiguousarray(f.pair_cover, np.int32).tobytes(),
                )
                for v, f in found.items()
            ],
        )

    # -- the scan ------------------------------------------------------------------------
    def neighbours(
        self,
        files: Sequence[FileLike],
        vectors_of: Callable[[int], np.ndarray],
        space: str,
        dim: int,
        k: int = 24,
        min_sim: float = 0.3,
        common_sim: float = 0.55,
        token: CancelToken = NEVER_CANCELLED,
        views_of: Callable[[int], int] | None = None,
        cover_sims: Sequence[float] = (),
        probes_of: Callable[[int], np.ndarray] | None = None,
    ) -> knn.Neighbours:
        """Bring the index up to date with ``files`` and answer their neighbours.

        Args:
            files: The videos of this scan, in matching order.
            vectors_of: Frame vectors (fixed space) of ``files[i]``; asked for new videos only.
            space: Name of the vector space (a mismatch with the ledger rebuilds).
            dim: Vector dimension.
            k: Neighbours per frame for candidate pairs.
            min_sim: A neighbour closer than this makes the two videos a candidate pair.
            common_sim: A neighbour closer than this counts towards the frame's commonness.
            token: Checked per batch.
            views_of: How many views (blocks of its frames) ``vectors_of(i)`` holds; 1 when
                None. A frame counts once towards a cover, whichever view is close.
            cover_sims: Similarities (ascending, none below ``min(min_sim, common_sim)``) at
                which to count each pair's close frames (:attr:`Neighbours.cover`).
            probes_of: The (p, PROBE_DIM) probe signatures of ``files[i]`` (turned copies are
                found from them, :meth:`probes`); asked for new videos only.

        Returns:
            Neighbours indexed by position in ``files``.
        """
        levels = tuple(float(t) for t in cover_sims)
        if list(levels) != sorted(levels) or (levels and levels[0] < min(min_sim, common_sim)):
            raise ValueError(f"cover similarities {levels} must ascend from the search radius")
        covers = ",".join(f"{t:g}" for t in levels)
        backend = self.prepare(
            space, dim, f"k={k},min_sim={min_sim:g},common_sim={common_sim:g},cover={covers}"
        )
        ids, changed = self._lookup(files)
        self.remove(changed)
        new_pos = [i for i, v in enumerate(ids) if v is None]
        chunks = [new_pos[lo : lo + CHUNK_VIDEOS] for lo in range(0, len(new_pos), CHUNK_VIDEOS)]
        t0 = time.perf_counter()
        # first add every new video (a chunk at a time: only a chunk's vectors in memory) ...
        done = frames = 0
        for chunk in chunks:
            token.raise_if_cancelled()
            vecs = [np.ascontiguousarray(vectors_of(i), dtype=np.float32) for i in chunk]
            # the size this scan's adds will reach, from the frames a new video had so far:
            # an index that must train now trains for it
            in_chunk = sum(len(v) for v in vecs)
            done, frames = done + len(chunk), frames + in_chunk
            backend.expect(backend.count() + in_chunk + frames * (len(new_pos) - done) // done)
            now = time.time()
            with self._conn:
                for i, v in zip(chunk, vecs, strict=True):
                    f = files[i]
                    views = views_of(i) if views_of is not None and len(v) else 1
                    if len(v) % views:
                        raise ValueError(f"{len(v)} vectors are not {views} views of {f.path}")
                    cur = self._conn.execute(
                        "INSERT OR REPLACE INTO videos (path, size, mtime_ns, n_frames, n_views, "
                        "added) VALUES (?, ?, ?, ?, ?, ?)",
                        (os.fsencode(f.path), f.size, f.mtime_ns, len(v), views, now),
                    )
                    ids[i] = int(cur.lastrowid or 0)
                if probes_of is not None:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO probes VALUES (?, ?)",
                        [
                            (int(ids[i] or 0), np.asarray(probes_of(i), np.float16).tobytes())
                            for i in chunk
                        ],
                    )
            backend.add([int(ids[i] or 0) for i in chunk], vecs)
        backend.expect(0)
        t1 = time.perf_counter()
        # ... then search them against everything (so the first scan is one all-against-all)
        per_view = self._frames_per_view() if levels else None
        last = max((int(ids[i] or 0) for i in new_pos), default=0)
        for chunk in chunks:
            vecs = [np.ascontiguousarray(vectors_of(i), dtype=np.float32) for i in chunk]
            self._search_new(backend, [int(ids[i] or 0) for i in chunk], vecs,
                             k, min_sim, common_sim, token, levels, per_view, last)  # fmt: skip
        backend.persist()
        t2 = time.perf_counter()
        self.counts["index_added"] = len(new_pos)
        self.counts["index_removed"] = len(changed)
        self.counts["index_videos"] = int(
            self._conn.execute("SELECT COUNT(*) FROM videos").fetchone()[0]
        )
        self.counts["index_frames"] = backend.count()
        answer = self._answer(np.array([int(v or 0) for v in ids], np.int64), len(levels))
        self.seconds.update(
            {
                "index_add": t1 - t0,
                "index_search": t2 - t1,
                "index_answer": time.perf_counter() - t2,
            }
        )
        return answer

    def _frames_per_view(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted video ids, frames per view of each) of every indexed video."""
        rows = np.array(
            self._conn.execute(
                "SELECT id, n_frames / MAX(n_views, 1) FROM videos ORDER BY id"
            ).fetchall(),
            np.int64,
        ).reshape(-1, 2)
        return rows[:, 0], np.maximum(rows[:, 1], 1)

    def _search_new(
        self,
        backend: VectorIndex,
        new_ids: list[int],
        vecs: list[np.ndarray],
        k: int,
        min_sim: float,
        common_sim: float,
        token: CancelToken,
        levels: tuple[float, ...] = (),
        per_view: tuple[np.ndarray, np.ndarray] | None = None,
        last: int | None = None,
    ) -> None:
        """Search the new videos' frames; store their pairs and close frames (both ways).

        With cover ``levels``, also count per pair the frames of each video that have a frame
        of the other at each level (from the same range search, before the ``k`` cap).
        ``last`` is the highest video id in the index (this chunk's highest when None).
        """
        if not new_ids:
            return
        sizes = [len(v) for v in vecs]
        if sum(sizes) == 0:
            with self._conn:
                self._write_found({v: Found.empty(len(levels)) for v in new_ids})
            return
        allq = np.concatenate(vecs)
        q_owner = np.repeat(np.array(new_ids, np.int64), sizes)
        last = max(new_ids) if last is None else last  # a bound at or above it bounds nothing
        q_frame = np.concatenate([np.arange(n, dtype=np.int32) for n in sizes])
        lv = np.asarray(levels, np.float32)
        if levels:
            known, fpv = per_view if per_view is not None else self._frames_per_view()

            def frames_per_view(videos: np.ndarray) -> np.ndarray:
                at = np.clip(np.searchsorted(known, videos), 0, max(len(known) - 1, 0))
                if not len(known):
                    return np.ones_like(videos)
                return np.where(known[at] == videos, fpv[at], 1)

            q_view_frame = q_frame % frames_per_view(q_owner)
        pq: list[np.ndarray] = []
        po: list[np.ndarray] = []
        ps: list[np.ndarray] = []
        cf: list[np.ndarray] = []
        cv: list[np.ndarray] = []
        for lo in range(0, len(allq), BATCH):
            token.raise_if_cancelled()
            hi = min(len(allq), lo + BATCH)
            # one range search answers both: the k best hits above min_sim (candidate pairs)
            # and the frames above common_sim (commonness). New videos have the highest ids
            # (AUTOINCREMENT), so a pair of frames is looked at once, from the later video's
            # side: frames of videos after this batch's are left to their own queries, and
            # what is found is stored both ways below. (Each frame's k best are then among
            # the videos before it, as they are for the frames of an incremental scan.)
            bound = int(q_owner[lo:hi].max())
            lims, sims, found_ids = backend.range_search(
                allq[lo:hi], min(min_sim, common_sim), max_video=bound if bound < last else None
            )
            fvid = video_of(found_ids)
            q, o, s = knn.range_hits(q_owner[lo:hi], lims, sims, fvid, k, min_sim)
            pq.append(q)
            po.append(o)
            ps.append(s)
            all_rows = np.repeat(np.arange(lo, hi), np.diff(lims))
            close = sims >= common_sim
            rows, cvid, close_ids = all_rows[close], fvid[close], found_ids[close]
            other = cvid != q_owner[rows]
            # this frame is close to that video; and, symmetrically, that frame to this video
            cf.append(np.stack([q_owner[rows[other]], q_frame[rows[other]], cvid[other]]))
            theirs = close_ids[other]
            mask = (1 << FRAME_BITS) - 1
            cf.append(np.stack([cvid[other], theirs & mask, q_owner[rows[other]]]))
            if levels:
                # close frames at each cover level, both ways, before the k cap
                at = (fvid >= 0) & (fvid != q_owner[all_rows]) & (sims >= lv[0])
                rows, ov, oid = all_rows[at], fvid[at], found_ids[at]
                level = np.searchsorted(lv, sims[at], side="right").astype(np.int64)
                qv = q_owner[rows]
                of = (oid & mask) % frames_per_view(ov)
                cv.append(knn.max_level_rows(np.stack([qv, q_view_frame[rows], ov, level])))
                cv.append(knn.max_level_rows(np.stack([ov, of, qv, level])))
        a, b, n, best = knn.aggregate_pairs(
            np.concatenate(pq), np.concatenate(po), np.concatenate(ps)
        )
        if levels:
            cover_rows = knn.max_level_rows(np.concatenate(cv, axis=1))
            pair_cover = np.stack(
                [
                    knn.cover_counts(cover_rows, a, b, len(levels)),
                    knn.cover_counts(cover_rows, b, a, len(levels)),
                ],
                axis=1,
            )
        else:
            pair_cover = np.zeros((len(a), 2, 0), np.int32)
        close = _unique_rows(np.concatenate(cf, axis=1))  # (3, m): video, frame, other
        touched = np.unique(close[0])
        fresh = set(new_ids)
        old = self._read_found([int(v) for v in touched if int(v) not in fresh], len(levels))
        found: dict[int, Found] = {}
        # a is sorted (aggregate_pairs), close[0] too (np.unique along axis 1): slice, no scans
        for v in np.unique(np.concatenate([touched, np.array(new_ids, np.int64)])).tolist():
            plo, phi = np.searchsorted(a, [v, v + 1])
            clo, chi = np.searchsorted(close[0], [v, v + 1])
            base = old.get(v, Found.empty(len(levels)))
            is_new = v not in old
            cframe = np.concatenate([base.close_frame, close[1][clo:chi].astype(np.int32)])
            cother = np.concatenate([base.close_other, close[2][clo:chi]])
            if len(cframe):
                uniq = np.unique(cframe.astype(np.int64) << 40 | cother)
                cframe, cother = (uniq >> 40).astype(np.int32), uniq & ((1 << 40) - 1)
            found[v] = Found(
                b[plo:phi] if is_new else base.pair_other,
                n[plo:phi].astype(np.int32) if is_new else base.pair_hits,
                best[plo:phi] if is_new else base.pair_best,
                cframe,
                cother,
                pair_cover[plo:phi] if is_new else base.pair_cover,
            )
        with self._conn:
            self._write_found(found)

    def _answer(self, video_ids: np.ndarray, levels: int) -> knn.Neighbours:
        """Neighbours of this scan's videos (by position) from the ledger (``levels`` covers)."""
        n_videos = len(video_ids)
        by_id = {
            int(i): (int(n), max(int(w), 1))
            for i, n, w in self._rows("SELECT id, n_frames, n_views FROM videos", "id", video_ids)
        }
        info = np.array([by_id.get(int(v), (0, 1)) for v in video_ids], np.int64).reshape(-1, 2)
        sizes = info[:, 0]
        per_view = np.maximum(info[:, 0] // info[:, 1], 1)
        if n_videos == 0:
            return knn.Neighbours({}, [])
        order = np.argsort(video_ids)
        sorted_ids = video_ids[order]

        def position(ids: np.ndarray) -> np.ndarray:
            at = np.clip(np.searchsorted(sorted_ids, ids), 0, n_videos - 1)
            return np.where(sorted_ids[at] == ids, order[at], -1)

        found = self._read_found(video_ids.tolist(), levels)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        pa, pb, ps, ph, pc, cframe, cvideo = [], [], [], [], [], [], []
        for pos, vid in enumerate(video_ids.tolist()):
            f = found.get(vid)
            if f is None:
                continue
            other = position(f.pair_other)
            ok = other >= 0
            pa.append(np.minimum(pos, other[ok]))
            pb.append(np.maximum(pos, other[ok]))
            ps.append(f.pair_best[ok])
            ph.append(f.pair_hits[ok])
            # (this, other) counts as (a, b): swapped where the other comes first
            if len(f.pair_cover) == len(f.pair_other):
                flip = other[ok] < pos
                c = f.pair_cover[ok]
                pc.append(np.where(flip[:, None, None], c[:, ::-1], c))
            cother = position(f.close_other)
            ok = (cother >= 0) & (f.close_frame < sizes[pos])
            cframe.append(starts[pos] + f.close_frame[ok])
            cvideo.append(cother[ok])
        pairs: dict[tuple[int, int], tuple[int, float]] = {}
        cover: dict[tuple[int, int], tuple[float, ...]] = {}
        if pa:
            all_a, all_b = np.concatenate(pa), np.concatenate(pb)
            a, b, n, best = knn.aggregate_pairs(
                all_a, all_b, np.concatenate(ps), np.concatenate(ph)
            )
            pairs = knn.pairs_dict(a, b, n, best)
            if levels and pc and sum(len(c) for c in pc) == len(all_a):
                counts = knn.aggregate_max(all_a, all_b, np.concatenate(pc))  # (p, 2, levels)
                share = np.maximum(
                    counts[:, 0] / per_view[a][:, None], counts[:, 1] / per_view[b][:, None]
                )
                cover = {
                    (x, y): tuple(row)
                    for x, y, row in zip(a.tolist(), b.tolist(), share.tolist(), strict=True)
                }
        owner = np.repeat(np.arange(n_videos, dtype=np.int64), sizes)
        close = (
            knn.unique_close(np.concatenate(cframe), np.concatenate(cvideo), n_videos)
            if cframe
            else np.zeros(0, np.int64)
        )
        common = knn.family_commonness(close, owner, sizes)
        log.info("library index: %d videos, %d candidate pairs", n_videos, len(pairs))
        return knn.Neighbours(pairs, knn.split(common, sizes.tolist()), cover)

    # -- closing -------------------------------------------------------------------------
    def close(self) -> None:
        """Persist the backend and close the ledger."""
        try:
            if self._backend is not None:
                self._backend.close()
        finally:
            self._conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tag(uri: str) -> str:
    return "" if backend_kind(uri) == "local" else "-milvus-" + _digest(milvus_uri(uri))[:8]


def find_libraries(folder: Path, uri: str = "local") -> list[Library]:
    """Every library index of ``folder`` on this backend (one per feature key), opened."""
    tag = _tag(uri)
    found = []
    for path in sorted(folder.glob("library-*.sqlite3")):
        stem = path.name[len("library-") : -len(".sqlite3")]
        if stem[16:] != tag:
            continue
        conn = sqlite3.connect(str(path), timeout=10)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='feature_key'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        finally:
            conn.close()
        if row is not None:
            found.append(open_library(folder, str(row[0]), uri))
    return found


def _cover(blob: bytes, n_pairs: int, levels: int) -> np.ndarray:
    """A stored ``pair_cover``: (n_pairs, 2, levels), or none when it does not fit."""
    cover = np.frombuffer(blob, np.int32)
    if levels == 0 or cover.size != n_pairs * 2 * levels:
        return np.zeros((0, 2, levels), np.int32)
    return cover.reshape(n_pairs, 2, levels)


def _has_columns(conn: sqlite3.Connection) -> bool:
    """Whether the ledger's tables have every column this version needs."""
    for table, needed in _REQUIRED.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not needed <= have:
            return False
    return True


def ledger_path(folder: Path, feature_key: str, uri: str = "local") -> Path:
    """Where the ledger of ``feature_key``'s library index on this backend lives."""
    return folder / f"library-{_digest(feature_key)}{_tag(uri)}.sqlite3"


def open_library(folder: Path | None, feature_key: str, uri: str = "local") -> Library:
    """Open (or create) the library index of ``feature_key``.

    Args:
        folder: The feature cache folder (the ledger and a local index file live there), or
            None for an in-memory library (``--no-cache``).
        feature_key: Model, recipe and sampling settings; one index per key.
        uri: ``local`` (faiss), ``milvus://HOST:PORT`` or a Milvus Lite file ``./x.db``.
    """
    kind = backend_kind(uri)
    digest = _digest(feature_key)
    ledger: Path | None = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        ledger = ledger_path(folder, feature_key, uri)
    conn = sqlite3.connect(
        str(ledger) if ledger else ":memory:", timeout=10, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        if not _has_columns(conn):
            # an older ledger: start it again (prepare() then drops the stale vectors too)
            log.info("library ledger %s is of an older version: rebuilding", ledger)
            conn.executescript("DROP TABLE videos; DROP TABLE found; DELETE FROM meta;")
            conn.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        conn.close()
        if ledger is None:
            raise
        aside = ledger.with_name(f"{ledger.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(ledger, aside)
        log.warning("library ledger %s unreadable; set aside as %s", ledger, aside.name)
        return open_library(folder, feature_key, uri)

    def make_backend(dim: int) -> VectorIndex:
        if kind == "milvus":
            from dedup_gui.core.index.milvus import MilvusIndex

            return MilvusIndex(milvus_uri(uri), f"dedup_{digest}", dim)
        from dedup_gui.core.index.local import LocalIndex

        return LocalIndex(dim, folder / f"library-{digest}.faiss" if folder else None)

    return Library(conn, make_backend, feature_key, uri, ledger)
