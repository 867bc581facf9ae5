import sqlite3
from pathlib import Path

import numpy as np

from dedup_gui.core.library.cache import CACHE_FILE, FeatureCache
from dedup_gui.core.types import Probe, VideoFeatures, VideoFile

PROBE = Probe(12.5, 320, 180, 25.0, "h264", 500_000, True, 0, "mp4", 312)


def _features(n=4):
    rng = np.random.default_rng(0)
    return VideoFeatures(
        timestamps=np.arange(n, dtype=np.float32),
        vectors=rng.random((n, 8), dtype=np.float32),
        regions=rng.random((n, 9, 8)).astype(np.float16),
        thumbs=rng.integers(0, 255, (n, 32, 32), dtype=np.uint8),
        informative=np.array([True, False, True, True][:n]),
        crop=(1, 2, 300, 170),
    )


def test_round_trip_and_staleness(tmp_path):
    f = VideoFile(Path("/videos/a b.mp4"), 1000, 123, Path("/videos"))
    with FeatureCache.open(tmp_path) as cache:
        assert cache.get(f, "k") is None
        cache.put(f, "k", PROBE, _features())
    with FeatureCache.open(tmp_path) as cache:
        probe, feats = cache.get(f, "k")
        assert probe == PROBE
        assert np.array_equal(feats.regions, _features().regions)
        assert feats.crop == (1, 2, 300, 170)
        assert cache.get(f, "other model") is None
        changed = VideoFile(f.path, 1000, 124, f.root)  # touched since: stale
        assert cache.get(changed, "k") is None


def test_non_utf8_paths(tmp_path):
    f = VideoFile(Path(b"/videos/caf\xe9.mp4".decode("utf-8", "surrogateescape")), 1, 1, Path("/"))
    with FeatureCache.open(tmp_path) as cache:
        cache.put(f, "k", PROBE, _features())
        assert cache.get(f, "k") is not None


def test_failures_are_remembered_until_the_file_changes(tmp_path):
    f = VideoFile(Path("/v/bad.mp4"), 10, 5, Path("/v"))
    with FeatureCache.open(tmp_path) as cache:
        cache.put_failure(f, "dec", "no video stream")
    with FeatureCache.open(tmp_path) as cache:
        assert cache.get_failure(f, "dec") == "no video stream"
        assert cache.get_failure(VideoFile(f.path, 11, 5, f.root), "dec") is None
        cache.forget_failures()
        assert cache.get_failure(f, "dec") is None


def test_uncommitted_batch_is_lost_but_committed_rows_survive(tmp_path):
    files = [VideoFile(Path(f"/v/{i}.mp4"), i + 1, i, Path("/v")) for i in range(3)]
    cache = FeatureCache.open(tmp_path)
    cache.put(files[0], "k", PROBE, _features())
    cache.commit()
    cache.put(files[1], "k", PROBE, _features())
    cache._conn.close()  # simulate a crash: no commit, no close()
    with FeatureCache.open(tmp_path) as again:
        assert again.get(files[0], "k") is not None
        assert again.get(files[1], "k") is None


def test_foreign_and_corrupt_files_are_set_aside(tmp_path):
    (tmp_path / CACHE_FILE).write_bytes(b"this is not a database at all" * 100)
    with FeatureCache.open(tmp_path) as cache:
        assert cache.enabled
        assert any("set aside" in n for n in cache.notices)
    assert list(tmp_path.glob(CACHE_FILE + ".bad-*"))
    other = tmp_path / "other"
    other.mkdir()
    conn = sqlite3.connect(other / CACHE_FILE)
    conn.execute("CREATE TABLE x (a)")
    conn.commit()
    conn.close()
    with FeatureCache.open(other) as cache:
        assert any("not a dedup-gui cache" in n for n in cache.notices)
