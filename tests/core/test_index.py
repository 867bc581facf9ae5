"""The library index: one contract over every backend, and incremental = all at once."""

import sqlite3

import numpy as np
import pytest

from dedup_gui.core.index import base
from dedup_gui.core.index.library import Library, open_library
from dedup_gui.core.index.local import LocalIndex
from dedup_gui.core.match import candidates as knn
from tests.core.test_candidates import _l2, clustered_library

DIM = 32


def _milvus(tmp_path):
    pytest.importorskip("pymilvus", reason="pymilvus not installed (pip install '.[milvus]')")
    from dedup_gui.core.errors import IndexUnavailable
    from dedup_gui.core.index.milvus import MilvusIndex

    try:
        return MilvusIndex(str(tmp_path / "milvus.db"), "test_frames", DIM)
    except IndexUnavailable as exc:  # milvus-lite missing or unable to start here
        pytest.skip(f"Milvus Lite cannot start: {exc}")


BACKENDS = {
    "local-exact": lambda tmp_path: LocalIndex(DIM, tmp_path / "x.faiss"),
    "local-ivf": lambda tmp_path: LocalIndex(DIM, tmp_path / "x.faiss", exact_max=100, nprobe=64),
    "milvus-lite": _milvus,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path):
    index = BACKENDS[request.param](tmp_path)
    yield index
    index.close()


def _videos(seed=0, n=30, frames=20):
    rng = np.random.default_rng(seed)
    return [_l2(rng.standard_normal((frames, DIM))) for _ in range(n)]


def test_backend_contract(backend):
    assert isinstance(backend, base.VectorIndex)
    vids = _videos()
    backend.add(list(range(10, 40)), vids)
    backend.persist()
    assert backend.count() == 600
    sims, ids = backend.search(vids[3][:4], 5)
    assert sims.shape == ids.shape == (4, 5)
    np.testing.assert_array_equal(base.video_of(ids[:, 0]), [13] * 4)  # each frame finds itself
    np.testing.assert_array_equal(ids[:, 0] & (base.MAX_FRAMES - 1), [0, 1, 2, 3])
    assert np.all(sims[:, 0] > 0.99) and np.all(np.diff(sims, axis=1) <= 1e-6)
    lims, close, found = backend.range_search(vids[5][:3], 0.9)
    assert lims.shape == (4,)
    assert close.shape == found.shape and np.all(close >= 0.9) and np.all(close <= 1.01)
    for i in range(3):
        assert list(base.video_of(found[lims[i] : lims[i + 1]])) == [15]
    # bounded: only frames of videos up to max_video (each finds its own frame when inside)
    lims, close, found = backend.range_search(np.concatenate([vids[2][:2], vids[20][:2]]), 0.2,
                                              max_video=25)  # fmt: skip
    assert set(base.video_of(found[lims[0] : lims[1]])) >= {12}  # video 12 = vids[2]
    exact_local = isinstance(backend, LocalIndex) and "IVF" not in backend.describe()
    if not exact_local:  # the local exact index may answer more (a superset)
        assert len(found) and base.video_of(found).max() <= 25
        assert 30 not in set(base.video_of(found[lims[2] : lims[4]]))  # vids[20]: above it
    backend.remove([13, 99])
    backend.persist()
    assert backend.count() == 580
    _, ids = backend.search(vids[3][:4], 5)
    assert 13 not in base.video_of(ids)
    assert backend.size_bytes() > 0 and backend.describe()
    backend.drop()
    assert backend.count() == 0


def test_local_index_persists_and_reloads(tmp_path):
    path = tmp_path / "x.faiss"
    vids = _videos()
    index = LocalIndex(DIM, path, exact_max=100)
    index.add(list(range(30)), vids)
    assert "IVF-SQ8" in index.describe()
    index.close()
    again = LocalIndex(DIM, path)
    assert again.count() == 600 and "IVF-SQ8" in again.describe()
    _, ids = again.search(vids[7][:1], 1)
    assert base.video_of(ids)[0, 0] == 7
    path.write_bytes(b"not an index")
    assert LocalIndex(DIM, path).count() == 0  # unusable file: start empty


def test_an_index_told_its_final_size_trains_once_for_it(tmp_path, monkeypatch):
    from dedup_gui.core.index import local

    trained: list[int] = []
    real = LocalIndex._rebuild_ivf

    def spy(self, ids, vecs, size=0):
        real(self, ids, vecs, size)
        trained.append(self._ivf().nlist)

    monkeypatch.setattr(LocalIndex, "_rebuild_ivf", spy)
    vids = _videos(n=30, frames=20)  # 600 frames, added three videos at a time
    hinted = LocalIndex(DIM, exact_max=100)
    hinted.expect(600)
    blind = LocalIndex(DIM, exact_max=100)
    for lo in range(0, 30, 3):
        hinted.add(list(range(lo, lo + 3)), vids[lo : lo + 3])
    assert trained == [local._nlist(600)]  # trained once, when all 600 were there
    trained.clear()
    for lo in range(0, 30, 3):
        blind.add(list(range(lo, lo + 3)), vids[lo : lo + 3])
    assert trained == [local._nlist(120)]  # trained at the first add over exact_max, kept
    assert local._nlist(600) > local._nlist(120)
    assert f"{local._nlist(600)} lists" in hinted.describe()
    _, ids = hinted.search(vids[7][:1], 1)
    assert base.video_of(ids)[0, 0] == 7
    # a hint that was too high: the adds end below it, and dropping it trains for what is there
    short = LocalIndex(DIM, exact_max=100)
    short.expect(100_000)
    short.add(list(range(30)), vids)
    assert short.describe().startswith("exact")
    short.expect(0)
    assert f"{local._nlist(600)} lists" in short.describe() and short.count() == 600


class _File:
    def __init__(self, i, mtime=1):
        from pathlib import Path

        self.path = Path(f"/library/v{i:04d}.mp4")
        self.size = 1000 + i
        self.mtime_ns = mtime


def _lib(tmp_path, name="lib"):
    return open_library(tmp_path / name, "model=x,sampling=y")


def _neighbours(lib: Library, files, vectors):
    return lib.neighbours(
        files, lambda i: vectors[i], "space-a", DIM, min_sim=0.35, common_sim=0.55
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_incremental_scans_find_what_one_search_finds(tmp_path, seed):
    vectors = clustered_library(seed)
    files = [_File(i) for i in range(len(vectors))]
    full = knn.search(vectors, min_sim=0.35)
    cut = [len(vectors) // 3, 2 * len(vectors) // 3, len(vectors)]
    for j, end in enumerate(cut):  # three scans, each adding a third of the library
        with _lib(tmp_path) as lib:
            got = _neighbours(lib, files[:end], vectors[:end])
            assert lib.counts["index_added"] == end - (cut[j - 1] if j else 0)
    # commonness is symmetric: updating the old frames hit by new ones gives the same counts
    for a, b in zip(got.commonness, full.commonness, strict=True):
        np.testing.assert_array_equal(a, b)
    # pairs: a frame's top k depends on what was indexed when it was searched, so weak pairs
    # at the edge of some frame's top k can differ (a few in a hundred, all below 0.5);
    # every clear pair is found with the same best similarity
    missing = full.pairs.keys() - got.pairs.keys()
    assert len(missing) < 0.02 * len(full.pairs)
    for key, (_, best) in full.pairs.items():
        if best >= 0.5:
            assert got.pairs[key][1] == pytest.approx(best, abs=1e-5)


@pytest.mark.parametrize("backend_uri", ["local", "local-ivf"])
def test_first_scan_looks_at_each_pair_of_frames_once_and_loses_nothing(
    tmp_path, monkeypatch, backend_uri
):
    """The bounded search (later videos search earlier ones) answers what a full one does."""
    import dedup_gui.core.index.library as library_mod

    if backend_uri == "local-ivf":  # an approximate index, every list probed: exact answers
        real = LocalIndex.__init__

        def small(self, dim, path=None, **kw):
            real(self, dim, path, exact_max=200, nprobe=4096)

        monkeypatch.setattr(LocalIndex, "__init__", small)
    vectors = clustered_library(3)
    files = [_File(i) for i in range(len(vectors))]
    monkeypatch.setattr(library_mod, "BATCH", 37)  # many batches, bounds inside a video
    seen: list[int | None] = []
    real_search = LocalIndex.range_search

    def search(lib, bounded):
        def spy(self, q, t, max_video=None):
            seen.append(max_video)
            lims, sims, ids = real_search(self, q, t, max_video if bounded else None)
            if bounded and max_video is not None:  # the exact index answers a superset:
                keep = base.video_of(ids) <= max_video  # bound it here, as IVF and Milvus do
                row = np.repeat(np.arange(len(q)), np.diff(lims))
                counts = np.bincount(row[keep], minlength=len(q))
                lims = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
                sims, ids = sims[keep], ids[keep]
            return lims, sims, ids

        monkeypatch.setattr(LocalIndex, "range_search", spy)
        return lib.neighbours(files, lambda i: vectors[i], "space-a", DIM, k=10_000,
                              min_sim=0.35, common_sim=0.55, cover_sims=(0.35, 0.5))  # fmt: skip

    with _lib(tmp_path, "bounded") as lib:
        once = search(lib, True)
    assert sum(m is not None for m in seen) >= len(seen) - 1  # the last batch bounds nothing
    with _lib(tmp_path, "full") as lib:
        full = search(lib, False)
    if backend_uri == "local-ivf":
        # 8-bit codes: a frame pair's similarity differs by a little with the side it is
        # searched from, so pairs at the radius may differ; every clear pair is the same
        assert len(full.pairs) > 20
        for key, (_, best) in full.pairs.items():
            if best >= 0.4:
                assert once.pairs[key][1] == pytest.approx(best, abs=0.02)
        assert len(once.pairs.keys() ^ full.pairs.keys()) < 0.05 * len(full.pairs)
        return
    # with no k cap in the way, the same pairs, best similarities, covers and commonness
    assert once.pairs.keys() == full.pairs.keys() and len(full.pairs) > 20
    for key, (_, best) in full.pairs.items():
        assert once.pairs[key][1] == pytest.approx(best, abs=1e-5)
        assert once.cover[key] == pytest.approx(full.cover[key])
    for a, b in zip(once.commonness, full.commonness, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_first_scan_trains_its_index_once_for_the_size_it_reaches(tmp_path, monkeypatch):
    import dedup_gui.core.index.library as library_mod
    from dedup_gui.core.index import local

    real = LocalIndex.__init__
    monkeypatch.setattr(
        LocalIndex,
        "__init__",
        lambda self, dim, path=None, **kw: real(self, dim, path, exact_max=200),
    )
    monkeypatch.setattr(library_mod, "CHUNK_VIDEOS", 7)  # added a few videos at a time
    trained: list[int] = []
    rebuild = LocalIndex._rebuild_ivf

    def spy(self, ids, vecs, size=0):
        rebuild(self, ids, vecs, size)
        trained.append(self._ivf().nlist)

    monkeypatch.setattr(LocalIndex, "_rebuild_ivf", spy)
    vectors = clustered_library(3)
    files = [_File(i) for i in range(len(vectors))]
    with _lib(tmp_path) as lib:
        _neighbours(lib, files, vectors)
        total = lib.backend.count()
    assert total > 1000 and len(trained) == 1
    # the size is estimated from the frames the videos added so far had: close to the final
    assert trained[0] == pytest.approx(local._nlist(total), rel=0.05)
    assert trained[0] > local._nlist(250)  # not the lists of an index trained at exact_max


def test_changed_removed_and_pruned_videos(tmp_path):
    vectors = clustered_library(3)
    files = [_File(i) for i in range(len(vectors))]
    with _lib(tmp_path) as lib:
        first = _neighbours(lib, files, vectors)
    pair = next(p for p, (_, best) in first.pairs.items() if best > 0.8)  # a planted copy
    a, _ = pair
    # the file at a changed: its old entry goes, the new contents are indexed under a new id
    files[a] = _File(a, mtime=2)
    vectors[a] = _l2(np.random.default_rng(9).standard_normal((5, DIM)))
    with _lib(tmp_path) as lib:
        second = _neighbours(lib, files, vectors)
        assert lib.counts["index_added"] == 1 and lib.counts["index_removed"] == 1
        assert lib.stats()["videos"] == len(files)
    assert pair not in second.pairs or second.pairs[pair][1] < 0.6  # the copy is gone
    ref = knn.search(vectors, min_sim=0.35)
    for x, y in zip(second.commonness, ref.commonness, strict=True):
        np.testing.assert_array_equal(x, y)
    # a scan of fewer files sees only their pairs; prune forgets files that are gone
    with _lib(tmp_path) as lib:
        part = _neighbours(lib, files[:10], vectors[:10])
        assert all(b < 10 for _, b in part.pairs)
        assert lib.counts["index_added"] == 0
        gone = lib.prune()  # none of the fake paths exist
        assert len(gone) == len(files) and lib.stats()["videos"] == 0
        assert lib.backend is not None and lib.backend.count() == 0


def test_other_space_or_settings_rebuild(tmp_path):
    vectors = clustered_library(4)[:20]
    files = [_File(i) for i in range(len(vectors))]
    with _lib(tmp_path) as lib:
        _neighbours(lib, files, vectors)
    with _lib(tmp_path) as lib:
        lib.neighbours(files, lambda i: vectors[i], "space-b", DIM)
        assert lib.counts["index_rebuilt"] == 1 and lib.counts["index_added"] == len(files)
        assert lib.meta()["space"] == "space-b"
    with _lib(tmp_path) as lib:
        lib.neighbours(files, lambda i: vectors[i], "space-b", DIM)
        assert "index_rebuilt" not in lib.counts and lib.counts["index_added"] == 0


def test_unreadable_ledger_is_set_aside(tmp_path):
    folder = tmp_path / "lib"
    with _lib(tmp_path) as lib:
        path = lib.ledger_path
    assert path is not None
    path.write_bytes(b"x" * 4096)
    with _lib(tmp_path) as lib:
        assert lib.stats()["videos"] == 0
    assert any(p.name.startswith(path.name + ".bad-") for p in folder.iterdir())
    sqlite3.connect(path).close()


def test_lost_vectors_or_a_cancelled_search_are_redone(tmp_path):
    from dedup_gui.core.progress import Cancelled, CancelToken

    vectors = clustered_library(5)[:30]
    files = [_File(i) for i in range(len(vectors))]
    token = CancelToken()
    token.cancel()
    with _lib(tmp_path) as lib, pytest.raises(Cancelled):
        lib.neighbours(files, lambda i: vectors[i], "space-a", DIM, token=token)
    with _lib(tmp_path) as lib:  # nothing was searched: everything is searched again
        first = _neighbours(lib, files, vectors)
        assert lib.counts["index_added"] == len(files)
    (tmp_path / "lib" / next(p.name for p in (tmp_path / "lib").glob("*.faiss"))).unlink()
    with _lib(tmp_path) as lib:  # the vectors are gone but the ledger is not: rebuild
        again = _neighbours(lib, files, vectors)
        assert lib.counts["index_rebuilt"] == 1 and lib.counts["index_added"] == len(files)
    assert again.pairs == first.pairs


def _direct_cover(va, views_a, vb, views_b, sims):
    """Share of either video's frames (any view) with a frame of the other this close."""
    s = va @ vb.T
    best_a = s.max(axis=1).reshape(views_a, -1).max(axis=0)
    best_b = s.max(axis=0).reshape(views_b, -1).max(axis=0)
    return tuple(max((best_a >= t).mean(), (best_b >= t).mean()) for t in sims)


@pytest.mark.parametrize("backend_uri", ["local", "milvus"])
def test_pair_covers_count_close_frames_of_either_view_across_scans(tmp_path, backend_uri):
    if backend_uri == "milvus":
        pytest.importorskip("milvus_lite")
        backend_uri = str(tmp_path / "m.db")
    vectors = clustered_library(6)[:45]
    rng = np.random.default_rng(2)
    # every third video shows its picture in a canvas: a second view of its frames (the
    # whole frame), unrelated to anything else
    views = [2 if i % 3 == 0 else 1 for i in range(len(vectors))]
    rows = [
        np.concatenate([v, _l2(rng.standard_normal(v.shape))]) if w == 2 else v
        for v, w in zip(vectors, views, strict=True)
    ]
    files = [_File(i) for i in range(len(rows))]
    sims = (0.45, 0.8)
    for end in (20, len(rows)):  # a first scan, then one that adds the rest
        with open_library(tmp_path / "lib", "model=x", backend_uri) as lib:
            got = lib.neighbours(files[:end], lambda i: rows[i], "s", DIM, min_sim=0.45,
                                 common_sim=0.6, views_of=lambda i: views[i],
                                 cover_sims=sims)  # fmt: skip
    assert got.cover.keys() == got.pairs.keys() and got.pairs
    for (a, b), cover in got.cover.items():
        want = _direct_cover(rows[a], views[a], rows[b], views[b], sims)
        assert cover == pytest.approx(want), (a, b)
    # the covers tell copies from pairs that share a frame or two
    assert {c[1] >= 0.5 for c in got.cover.values()} == {True, False}


def test_a_ledger_of_an_older_version_is_rebuilt(tmp_path):
    vectors = clustered_library(7)[:20]
    files = [_File(i) for i in range(len(vectors))]
    with _lib(tmp_path) as lib:
        path = lib.ledger_path
        _neighbours(lib, files, vectors)
    assert path is not None
    conn = sqlite3.connect(path)  # what version 1 had: no views, no covers
    conn.executescript(
        "ALTER TABLE found DROP COLUMN pair_cover; ALTER TABLE videos DROP COLUMN n_views;"
    )
    conn.close()
    with _lib(tmp_path) as lib:
        got = lib.neighbours(files, lambda i: vectors[i], "space-a", DIM, min_sim=0.45,
                             common_sim=0.6, cover_sims=(0.45,))  # fmt: skip
        assert lib.counts["index_rebuilt"] == 1 and lib.counts["index_added"] == len(files)
    assert got.cover.keys() == got.pairs.keys()


def test_the_refinement_gate_keeps_covered_pairs_of_compatible_durations():
    from dedup_gui.core.match import matching

    assert len(matching.REFINE_COVERS) == len(matching.COVER_SIMS)
    low, high = matching.REFINE_COVERS
    neigh = knn.Neighbours(
        pairs={
            (0, 1): (40, 0.9),
            (0, 2): (2, 0.6),
            (1, 2): (30, 0.47),
            (2, 3): (1, 0.5),
            (0, 3): (9, 0.8),
        },
        commonness=[np.zeros(3, np.int32)] * 4,
        cover={(0, 1): (1.0, 0.9), (0, 2): (0.2, 0.1), (1, 2): (low, 0.0), (2, 3): (0.5, high)},
    )
    durations = [10.0, 10.0, 10.0, 60.0]
    counts: dict[str, int] = {}
    kept = matching.refinable_pairs(neigh, durations, 0.4, counts)
    # (0, 2) shares a frame or two; (2, 3) is covered but 60 s against 10 s is no whole copy;
    # (0, 3) has no cover (a search that counted none): it goes on, but not at 60 s either
    assert set(kept) == {(0, 1), (1, 2)} and kept[(0, 1)] == (40, 0.9)
    assert counts["thin_pairs"] == 1
    # partial mode compares any durations
    assert set(matching.refinable_pairs(neigh, durations, None)) == {(0, 1), (1, 2), (2, 3), (0, 3)}


def test_probes_are_stored_per_video_and_forgotten_with_it(tmp_path):
    vectors = clustered_library(4)
    files = [_File(i) for i in range(len(vectors))]
    rng = np.random.default_rng(2)
    sigs = [_l2(rng.standard_normal((4, 63))) for _ in files]
    with _lib(tmp_path) as lib:
        lib.neighbours(files, lambda i: vectors[i], "space-a", DIM, min_sim=0.35,
                       common_sim=0.55, probes_of=lambda i: sigs[i])  # fmt: skip
        owner, rows = lib.probes()
        ids = {int(v): i for i, (v, *_) in enumerate(sorted(lib.videos()))}
        assert len(rows) == 4 * len(files) and rows.shape[1] == 63
        first = owner[0]
        np.testing.assert_allclose(rows[owner == first], sigs[ids[int(first)]], atol=1e-3)
        lib.remove([int(first)])
        assert int(first) not in set(lib.probes()[0].tolist())


def test_one_videos_commonness_is_the_scans(tmp_path):
    vectors = clustered_library(5)
    files = [_File(i) for i in range(len(vectors))]
    with _lib(tmp_path) as lib:
        full = _neighbours(lib, files, vectors)
        by_path = {p: v for v, p, *_ in lib.videos()}
        for i in (0, 7, 19):
            vid = by_path[files[i].path]
            one = lib.commonness(vid, lambda ids: np.ones(len(ids), bool))
            # families are found within the video's neighbourhood: the same counts here
            np.testing.assert_array_equal(one, full.commonness[i])
            alone = lib.commonness(vid, lambda ids: np.zeros(len(ids), bool))
            assert not alone.any() and len(alone) == len(vectors[i])


def test_a_reader_never_rewrites_the_index_file(tmp_path):
    path = tmp_path / "x.faiss"
    index = LocalIndex(DIM, path)
    index.add([1], _videos(n=1))
    index.close()
    stamp = path.stat().st_mtime_ns
    reader = LocalIndex(DIM, path)
    reader.search(_videos(n=1)[0][:2], 3)
    reader.close()  # nothing changed: a scan may have written the file since it was read
    assert path.stat().st_mtime_ns == stamp


def test_identical_copies_are_recorded_by_size_and_go_with_their_video(tmp_path):
    from pathlib import Path

    vectors = clustered_library(6)[:4]
    files = [_File(i) for i in range(len(vectors))]
    twin = _File(0)
    twin.path = Path("/elsewhere/copy of v0000.mp4")
    with _lib(tmp_path) as lib:
        _neighbours(lib, files, vectors)
        lib.set_twins([(files[0], [twin]), (_File(99), [_File(98)])])  # 99 is not indexed
        assert set(lib.same_size(files[0].size)) == {files[0].path, twin.path}
        assert lib.same_size(_File(98).size) == []
        lib.set_twins([(files[0], [])])  # a later scan saw no copy any more
        assert lib.same_size(files[0].size) == [files[0].path]
        lib.set_twins([(files[0], [twin])])
        (vid,) = [v for v, p, *_ in lib.videos() if p == files[0].path]
        lib.remove([vid])
        assert lib.same_size(files[0].size) == []
