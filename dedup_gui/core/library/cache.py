"""The feature cache: SQLite in the user cache folder.

Rows are keyed by the file's path and the *feature key* (model, weights, recipe and sampling
settings) and remember the file's size and mtime_ns: a row whose size or mtime differ is stale
and ignored. Arrays are stored as ``.npz`` bytes (never pickled); file probes as JSON.

Crash safety: the database runs in WAL mode and the scan commits every few files (and at least
every two seconds), so a scan that is killed loses at most the last batch and the next scan
resumes from the rest. A file that is not our database (corrupt, foreign, from an incompatible
version) is set aside under a new name, with a notice, and a fresh cache is created.

One writer: the scan thread owns the connection.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dedup_gui.core.types import Probe, VideoFeatures, VideoFile

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
APPLICATION_ID = 0x44445547  # "DDUG"
CACHE_FILE = "features.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS features (
    path BLOB NOT NULL,
    feature_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    probe TEXT NOT NULL,
    data BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (path, feature_key)
);
CREATE TABLE IF NOT EXISTS failures (
    path BLOB NOT NULL,
    decoder_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (path, decoder_key)
);
"""


def default_cache_dir() -> Path:
    """The platform's user cache folder for this app."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("dedup-gui", appauthor=False))


def _path_key(path: Path) -> bytes:
    return os.fsencode(path)


def encode_features(f: VideoFeatures) -> bytes:
    """Serialise features as ``.npz`` bytes (no pickle)."""
    arrays: dict[str, np.ndarray] = {
        "timestamps": f.timestamps,
        "vectors": f.vectors,
        "regions": f.regions,
        "thumbs": f.thumbs,
        "informative": f.informative,
        "crop": np.asarray(f.crop, dtype=np.int32),
    }
    if f.full_regions is not None and f.full_thumbs is not None and f.full_crop is not None:
        arrays["full_regions"] = f.full_regions
        arrays["full_thumbs"] = f.full_thumbs
        arrays["full_crop"] = np.asarray(f.full_crop, dtype=np.int32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def decode_features(data: bytes) -> VideoFeatures:
    """Inverse of :func:`encode_features`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        crop = tuple(int(x) for x in z["crop"])
        full = "full_regions" in z.files
        fc = tuple(int(x) for x in z["full_crop"]) if full else None
        return VideoFeatures(
            timestamps=z["timestamps"],
            vectors=z["vectors"],
            regions=z["regions"],
            thumbs=z["thumbs"],
            informative=z["informative"].astype(bool),
            crop=(crop[0], crop[1], crop[2], crop[3]),
            full_regions=z["full_regions"] if full else None,
            full_thumbs=z["full_thumbs"] if full else None,
            full_crop=(fc[0], fc[1], fc[2], fc[3]) if fc else None,
        )


def _probe_to_json(p: Probe, warnings: tuple[str, ...] = ()) -> str:
    d: dict[str, object] = dict(asdict(p))
    if warnings:
        d["_warnings"] = list(warnings)  # damage found while decoding, shown again on a hit
    return json.dumps(d)


def _probe_from_json(text: str) -> tuple[Probe, tuple[str, ...]]:
    d = json.loads(text)
    warnings = tuple(str(w) for w in d.pop("_warnings", ()))
    return Probe(**d), warnings


@dataclass(frozen=True, eq=False)
class CachedFeatures:
    """A cache hit: what the scan would otherwise decode and embed again."""

    probe: Probe
    features: VideoFeatures
    warnings: tuple[str, ...] = ()  # e.g. "damaged or truncated: ..." from the first decode


class FeatureCache:
    """Read and write cached features; see the module docstring.

    Use :meth:`open` to get one; it never raises for a bad cache file.

    Args:
        conn: An open connection with our schema, or None for a cache that stores nothing.
        path: The database file.
        batch: Commit after this many writes (and on :meth:`commit`/:meth:`close`).
    """

    def __init__(
        self,
        conn: sqlite3.Connection | None,
        path: Path | None,
        batch: int = 8,
        max_age: float = 2.0,
    ) -> None:
        self._conn = conn
        self.path = path
        self._batch = batch
        self._max_age = max_age
        self._pending = 0
        self._last_commit = time.monotonic()
        self.notices: list[str] = []

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def disabled(cls) -> FeatureCache:
        """A cache that never hits and stores nothing (``--no-cache``)."""
        return cls(None, None)

    @classmethod
    def open(cls, cache_dir: Path | None = None) -> FeatureCache:
        """Open (or create) the cache in ``cache_dir``; set aside a file that is not ours."""
        folder = Path(cache_dir) if cache_dir else default_cache_dir()
        notices: list[str] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            cache = cls.disabled()
            cache.notices.append(f"Feature cache disabled: cannot create {folder} ({exc}).")
            return cache
        path = folder / CACHE_FILE
        conn = None
        for attempt in range(2):
            try:
                conn = cls._connect(path)
                break
            except (sqlite3.DatabaseError, _ForeignCache) as exc:
                if attempt:
                    raise
                aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
                for suffix in ("", "-wal", "-shm"):
                    src = Path(str(path) + suffix)
                    if src.exists():
                        os.replace(src, Path(str(aside) + suffix))
                msg = (
                    f"The feature cache {path} could not be used ({exc}); it was set aside as "
                    f"{aside.name} and a new cache was started."
                )
                log.warning(msg)
                notices.append(msg)
            except OSError as exc:
                cache = cls.disabled()
                cache.notices.append(f"Feature cache disabled: cannot open {path} ({exc}).")
                return cache
        cache = cls(conn, path)
        cache.notices.extend(notices)
        return cache

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        fresh = not path.exists() or path.stat().st_size == 0
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            if not fresh:
                # identify the file before changing anything in it: a database that is not
                # ours is set aside exactly as it was found
                app = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if app != APPLICATION_ID:
                    raise _ForeignCache("not a dedup-gui cache")
                if version != SCHEMA_VERSION:
                    raise _ForeignCache(f"cache format {version}, expected {SCHEMA_VERSION}")
                row = conn.execute("PRAGMA quick_check").fetchone()
                if not row or row[0] != "ok":
                    raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else '?'}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if fresh:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.executescript(_SCHEMA)
            conn.execute("BEGIN")
        except BaseException:
            conn.close()
            raise
        return conn

    # -- reading -------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """Whether this cache stores anything."""
        return self._conn is not None

    def get(self, file: VideoFile, key: str) -> tuple[Probe, VideoFeatures] | None:
        """Cached probe and features of ``file`` under ``key``, unless missing or stale."""
        hit = self.lookup(file, key)
        return None if hit is None else (hit.probe, hit.features)

    def lookup(self, file: VideoFile, key: str) -> CachedFeatures | None:
        """Like :meth:`get`, with the warnings found when the file was decoded."""
        if self._conn is None:
            return None
        row = self._conn.execute(
            "SELECT size, mtime_ns, probe, data FROM features WHERE path=? AND feature_key=?",
            (_path_key(file.path), key),
        ).fetchone()
        if row is None or row[0] != file.size or row[1] != file.mtime_ns:
            return None
        try:
            probe, warnings = _probe_from_json(row[2])
            return CachedFeatures(probe, decode_features(row[3]), warnings)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning("unreadable cache row for %s (%s); recomputing", file.path, exc)
            return None

    def entries(self, key: str) -> Iterator[tuple[Path, int, int, CachedFeatures]]:
        """Every row stored under ``key``: (path, size, mtime_ns, features), stale or not.

        The caller decides which rows still describe their file (the library search checks
        each file's size and mtime). Unreadable rows are skipped.
        """
        if self._conn is None:
            return
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, probe, data FROM features WHERE feature_key=?", (key,)
        ).fetchall()
        for raw, size, mtime_ns, probe_text, data in rows:
            path = Path(os.fsdecode(raw))
            try:
                probe, warnings = _probe_from_json(probe_text)
                feats = decode_features(data)
            except (ValueError, KeyError, TypeError, OSError) as exc:
                log.warning("unreadable cache row for %s (%s); skipped", path, exc)
                continue
            yield path, int(size), int(mtime_ns), CachedFeatures(probe, feats, warnings)

    def get_failure(self, file: VideoFile, decoder_key: str) -> str | None:
        """The reason this unchanged file failed before, if it did."""
        if self._conn is None:
            return None
        row = self._conn.execute(
            "SELECT size, mtime_ns, reason FROM failures WHERE path=? AND decoder_key=?",
            (_path_key(file.path), decoder_key),
        ).fetchone()
        if row is None or row[0] != file.size or row[1] != file.mtime_ns:
            return None
        return str(row[2])

    # -- writing -------------------------------------------------------------------------
    def put(
        self,
        file: VideoFile,
        key: str,
        probe: Probe,
        features: VideoFeatures,
        warnings: tuple[str, ...] = (),
    ) -> None:
        """Store features (and damage warnings); committed with the current batch."""
        if self._conn is None:
            return
        self._conn.execute(
            "INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                _path_key(file.path),
                key,
                file.size,
                file.mtime_ns,
                _probe_to_json(probe, tuple(warnings)),
                encode_features(features),
                time.time(),
            ),
        )
        self._tick()

    def put_failure(self, file: VideoFile, decoder_key: str, reason: str) -> None:
        """Remember that an unchanged file cannot be decoded (so it is not retried)."""
        if self._conn is None:
            return
        self._conn.execute(
            "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?)",
            (_path_key(file.path), decoder_key, file.size, file.mtime_ns, reason, time.time()),
        )
        self._tick()

    def forget_failures(self) -> None:
        """Retry every file that failed before."""
        if self._conn is not None:
            self._conn.execute("DELETE FROM failures")
            self._tick()

    def _tick(self) -> None:
        # commit every few rows, and at least every ``max_age`` seconds: slow files (seconds
        # each) must not leave many finished rows uncommitted when the process is killed
        self._pending += 1
        if self._pending >= self._batch or time.monotonic() - self._last_commit >= self._max_age:
            self.commit()

    def commit(self) -> None:
        """Make the writes so far durable."""
        if self._conn is None:
            return
        self._conn.execute("COMMIT")
        self._conn.execute("BEGIN")
        self._pending = 0
        self._last_commit = time.monotonic()

    def rollback(self) -> None:
        """Drop the writes of the current batch."""
        if self._conn is None:
            return
        self._conn.execute("ROLLBACK")
        self._conn.execute("BEGIN")
        self._pending = 0

    def close(self) -> None:
        """Commit and close."""
        if self._conn is None:
            return
        try:
            self._conn.execute("COMMIT")
        finally:
            self._conn.close()
            self._conn = None

    def stats(self) -> dict[str, int]:
        """Row counts and the database size in bytes."""
        if self._conn is None:
            return {"entries": 0, "failures": 0, "bytes": 0}
        n = self._conn.execute("SELECT COUNT(*) FROM features").fetchone()[0]
        f = self._conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
        size = self.path.stat().st_size if self.path and self.path.exists() else 0
        return {"entries": int(n), "failures": int(f), "bytes": int(size)}

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ForeignCache(Exception):
    """The cache file is a SQLite database, but not ours (or another version)."""
