"""find_copies without Qt: kinds, ranges, identical files, the unscanned status, the library."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dedup_gui.core.analyse.features import feature_key
from dedup_gui.core.find.copies import CopyKind, FindStatus, find_copies
from dedup_gui.core.find.library import LibrarySearch
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.pipeline import scan
from tests import media as M


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    """Copies of a 16 s source: mirrored, turned, byte-identical, a clip cut from it; and
    an unrelated video. Scanned into a module cache."""
    base = tmp_path_factory.mktemp("find-core")
    lib = base / "lib"
    src = M.Scene(91).frames(16)
    source = M.write_video(lib / "source.mp4", src)
    M.write_video(lib / "mirrored.mp4", M.mirror(src), crf=28)
    M.write_video(lib / "turned.mp4", M.apply(src, M.turn(1)), crf=28)
    M.write_video(lib / "clip.mp4", src[3 * M.FPS : 9 * M.FPS])
    M.write_video(lib / "other.mp4", M.Scene(92).frames(10))
    shutil.copy2(source, lib / "same bytes.mp4")
    shutil.copy2(lib / "mirrored.mp4", lib / "mirrored twin.mp4")
    options = ScanOptions(cache_dir=base / "cache")
    result = scan([lib], options, embedder=embedder)
    assert result.stats.counts["videos"] == 5  # one file of each identical pair is analysed
    return lib, options


def test_every_kind_of_copy_is_found_and_named(library, embedder):
    lib, options = library
    result = find_copies([lib / "source.mp4"], options, roots=[lib], embedder=embedder)
    assert result.status is FindStatus.OK and result.library_videos == 5
    (q,) = result.queries
    kinds = {c.path.name: c for c in q.copies}
    assert set(kinds) == {
        "mirrored.mp4", "mirrored twin.mp4", "turned.mp4", "clip.mp4", "same bytes.mp4"
    }  # fmt: skip
    assert kinds["same bytes.mp4"].identical and kinds["same bytes.mp4"].similarity == 1.0
    assert kinds["mirrored.mp4"].kind is kinds["mirrored twin.mp4"].kind is CopyKind.MIRRORED
    assert kinds["turned.mp4"].kind is CopyKind.TURNED
    assert kinds["turned.mp4"].evidence.rotation in (90, 270)
    clip = kinds["clip.mp4"]
    assert clip.kind is CopyKind.CONTAINS  # the clip is cut from the query
    assert abs(clip.query_range[0] - 3.0) <= 1.0 and abs(clip.query_range[1] - 9.0) <= 1.0
    assert q.copies[0].identical  # identical files first, then by similarity
    sims = [c.similarity for c in q.copies[1:]]
    assert sims == sorted(sims, reverse=True)
    assert q.seconds > 0


def test_an_excerpt_query_finds_its_source_and_where_it_was_cut(library, embedder, tmp_path):
    lib, options = library
    src = M.Scene(91).frames(16)
    query = M.write_video(tmp_path / "q.mp4", src[5 * M.FPS : 12 * M.FPS], crf=26)
    result = find_copies([query], options, roots=[lib], top=3, embedder=embedder)
    (q,) = result.queries
    assert len(q.copies) <= 3
    best = next(c for c in q.copies if c.path.name == "source.mp4")
    assert best.kind is CopyKind.EXCERPT
    assert abs(best.match_range[0] - 5.0) <= 1.0 and abs(best.match_range[1] - 12.0) <= 1.0


def test_unscanned_roots_give_a_status_not_an_empty_list(library, embedder, tmp_path):
    lib, options = library
    empty = tmp_path / "never scanned"
    empty.mkdir()
    result = find_copies([lib / "source.mp4"], options, roots=[empty], embedder=embedder)
    assert result.status is FindStatus.NOT_SCANNED
    assert "not been scanned yet" in result.message
    other = options.replace(cache_dir=tmp_path / "no cache")
    assert find_copies([lib / "source.mp4"], other, embedder=embedder).status is (
        FindStatus.NOT_SCANNED
    )


def test_library_search_returns_hits_per_video_best_first(library, embedder):
    lib, options = library
    with FeatureCache.open(options.cache_dir) as cache:
        search = LibrarySearch.from_cache(cache, feature_key(options, embedder), [lib])
    # the five scanned videos, and the queries analysed since (cached like any file)
    assert len(search) >= 5 and search.frames > 0
    i = next(k for k, v in enumerate(search.videos) if v.path.name == "other.mp4")
    hits = search.search(search.prepared(i).vectors, k=8)
    assert hits[0].video == i  # a video's own frames hit itself first
    assert hits[0].score >= max(h.score for h in hits)
    assert np.all(np.diff(hits[0].frames) > 0) and len(hits[0].sims) == len(hits[0].frames)
    assert search.search(np.zeros((0, search.prepared(i).vectors.shape[1])), k=8) == []


def test_the_library_index_and_the_gathered_library_find_the_same_copies(library, embedder):
    from dedup_gui.core.find.copies import gather_library
    from dedup_gui.core.find.indexed import IndexedLibrary

    lib, options = library
    with FeatureCache.open(options.cache_dir) as cache:
        indexed = gather_library(options, cache, embedder, [lib])
        gathered = LibrarySearch.from_cache(
            cache, feature_key(options, embedder), [lib], embedder.prior(options.sampling.size),
            extensions=options.discovery.extensions,
        )  # fmt: skip
        try:
            # the index holds the scanned videos only; the cache also the queries since
            assert isinstance(indexed, IndexedLibrary) and len(indexed) == 5
            for name in ("clip.mp4", "source.mp4", "turned.mp4"):
                found = []
                for one in (indexed, gathered):
                    r = find_copies([lib / name], options, cache, roots=[lib], embedder=embedder,
                                    library=one)  # fmt: skip
                    found.append(r.queries[0].copies)
                assert [(c.path, c.kind) for c in found[0]] == [
                    (c.path, c.kind) for c in found[1]
                ], name
                assert found[0], name
        finally:
            indexed.close()


def test_the_index_leaves_out_files_changed_or_gone_since_the_scan(embedder, tmp_path):
    import os

    lib = tmp_path / "lib"
    src = M.Scene(93).frames(10)
    M.write_video(lib / "source.mp4", src)
    M.write_video(lib / "copy.mp4", src, crf=30)
    M.write_video(lib / "second copy.mp4", src, crf=32)
    M.write_video(lib / "other.mp4", M.Scene(94).frames(8))
    options = ScanOptions(cache_dir=tmp_path / "cache")
    assert len(scan([lib], options, embedder=embedder).groups) == 1
    (lib / "second copy.mp4").unlink()
    st = os.stat(lib / "copy.mp4")
    os.utime(lib / "copy.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    result = find_copies([lib / "source.mp4"], options, roots=[lib], embedder=embedder)
    assert result.status is FindStatus.OK and result.library_videos == 4
    assert [c.path.name for c in result.queries[0].copies] == []
    # a rescan brings the changed file back into the index
    scan([lib], options, embedder=embedder)
    result = find_copies([lib / "source.mp4"], options, roots=[lib], embedder=embedder)
    assert result.library_videos == 3
    assert [c.path.name for c in result.queries[0].copies] == ["copy.mp4"]


def test_a_copy_its_own_comparison_misses_is_found_through_a_copy_of_it(
    library, embedder, monkeypatch
):
    from dataclasses import replace

    from dedup_gui.core.find import search

    lib, options = library
    real = search.Searcher._refine

    def missing_source(self, feats, qp, qfull, i):  # the excerpt's alignment goes astray
        m = real(self, feats, qp, qfull, i)
        return replace(m, verified=False) if self.library.files[i].path.name in source else m

    # the scan analysed one file of the identical pair; its comparison fails whichever it is
    source = {"source.mp4", "same bytes.mp4"}

    monkeypatch.setattr(search.Searcher, "_refine", missing_source)
    result = find_copies([lib / "clip.mp4"], options, roots=[lib], embedder=embedder)
    found = {c.path.name: c for c in result.queries[0].copies}
    assert "other.mp4" not in found
    source = found["source.mp4"]  # through the mirrored copies, which hold the whole source
    assert source.kind is CopyKind.EXCERPT
    assert abs(source.match_range[0] - 3.0) <= 1.0 and abs(source.match_range[1] - 9.0) <= 1.0
    assert source.evidence.flipped is False and found["mirrored.mp4"].evidence.flipped is True
    assert "same bytes.mp4" in found  # and the source's byte-identical twin with it


def test_find_searches_a_milvus_library_index_as_the_local_one(library, embedder, tmp_path):
    pytest.importorskip("milvus_lite", reason="milvus-lite not installed (pip install '.[milvus]')")
    from dedup_gui.core.errors import IndexUnavailable

    lib, options = library
    milvus = options.replace(cache_dir=tmp_path / "cache", index=str(tmp_path / "library.db"))
    try:
        scan([lib], milvus, embedder=embedder)
    except IndexUnavailable as exc:  # Milvus Lite unable to start here
        pytest.skip(f"Milvus Lite cannot start: {exc}")
    got = find_copies([lib / "clip.mp4"], milvus, roots=[lib], embedder=embedder)
    want = find_copies([lib / "clip.mp4"], options, roots=[lib], embedder=embedder)
    assert "Milvus Lite" in got.library_source and "Milvus" not in want.library_source
    assert [(c.path, c.kind) for c in got.queries[0].copies] == [
        (c.path, c.kind) for c in want.queries[0].copies
    ]


def test_a_mirrored_clip_finds_its_source_and_where_it_was_cut(
    library, embedder, tmp_path, monkeypatch
):
    from dataclasses import replace

    from dedup_gui.core.find import search
    from dedup_gui.core.match import rotation

    lib, options = library
    # real mirrored clips match their source's frames at ~0.5 (the mirror invariance of the
    # vectors is a fitted approximation) and fail the direct comparison; these generated
    # scenes do not, so the direct comparison is made to fail: only the query's mirror image
    # can find the source
    images: list[object] = []
    features, refine = rotation.Rotator.features, search.Searcher._refine

    def remember(self, file, k, mirrored=False):
        out = features(self, file, k, mirrored)
        if mirrored:
            images.append(out)
        return out

    def only_mirrored(self, feats, qp, qfull, i):
        m = refine(self, feats, qp, qfull, i)
        return m if any(feats is f for f in images) else replace(m, verified=False)

    monkeypatch.setattr(rotation.Rotator, "features", remember)
    monkeypatch.setattr(search.Searcher, "_refine", only_mirrored)
    src = M.Scene(91).frames(16)
    query = M.write_video(tmp_path / "mirrored clip.mp4", M.mirror(src[5 * M.FPS : 12 * M.FPS]))
    result = find_copies([query], options, roots=[lib], embedder=embedder)
    found = {c.path.name: c for c in result.queries[0].copies}
    source = found["source.mp4"]
    assert source.kind is CopyKind.EXCERPT and source.evidence.flipped
    assert abs(source.match_range[0] - 5.0) <= 1.0 and abs(source.match_range[1] - 12.0) <= 1.0
    assert "other.mp4" not in found
    # the mirror image is the query's analysis: it is not counted as search time
    assert result.seconds["features"] > 0 and result.queries[0].seconds > 0


def test_the_index_keeps_a_bounded_number_of_refinement_views(library, embedder):
    from dedup_gui.core.find.copies import gather_library

    lib, options = library
    with FeatureCache.open(options.cache_dir) as cache:
        indexed = gather_library(options, cache, embedder, [lib])
        try:
            indexed.keep = 2
            first = indexed.prepared(0)
            for i in range(1, len(indexed)):
                indexed.prepared(i)
                indexed.full_view(i)
            assert len(indexed._prepared) == 2 and 0 not in indexed._prepared
            again = indexed.prepared(0)  # made again, the same view and weights
            np.testing.assert_array_equal(again.vectors, first.vectors)
            np.testing.assert_array_equal(again.weights, first.weights)
        finally:
            indexed.close()


def test_an_excerpt_of_fast_changing_footage_is_found_at_its_sources_moments(
    embedder, tmp_path, monkeypatch
):
    """Cut between two of the source's sampled moments, an excerpt of snowfall shares no
    frame with it: only the phase look (match.phase: the query decoded densely and matched at
    the source's own moments) finds it, with where it was cut; another snowfall stays out."""
    from dedup_gui.core.find import search

    lib = tmp_path / "lib"
    src = M.snowfall(41, 20)
    M.write_video(lib / "snowfall.mp4", src)
    M.write_video(lib / "other snowfall.mp4", M.snowfall(42, 20))
    query = M.write_video(tmp_path / "excerpt.mp4", src[75:135], crf=26)  # 7.5 s .. 13.5 s
    options = ScanOptions(cache_dir=tmp_path / "cache")
    scan([lib], options, embedder=embedder)

    with monkeypatch.context() as m:
        m.setattr(search.Searcher, "_rephased", lambda *args: {})
        (without,) = find_copies([query], options, roots=[lib], embedder=embedder).queries
    assert not without.copies  # what the sampled frames alone give

    result = find_copies([query], options, roots=[lib], embedder=embedder)
    found = {c.path.name: c for c in result.queries[0].copies}
    assert set(found) == {"snowfall.mp4"}
    source = found["snowfall.mp4"]
    assert source.kind is CopyKind.EXCERPT and not source.evidence.flipped
    assert abs(source.match_range[0] - 7.5) <= 1.0 and abs(source.match_range[1] - 13.5) <= 1.0
    assert result.seconds["features"] > 0  # the dense look is the query's analysis


def test_copies_outside_the_searched_folders_do_not_hide_the_source(
    embedder, tmp_path, monkeypatch
):
    """Five copies of a clip in a folder that is not searched are its nearest neighbours; the
    index search makes room for them (indexed.WIDEN_TIMES), so the clip's source in the
    searched folder is still found."""
    from dedup_gui.core.find import indexed, search

    src = M.Scene(77).frames(16)
    mine, elsewhere = tmp_path / "mine", tmp_path / "elsewhere"
    M.write_video(mine / "source.mp4", src)
    M.write_video(mine / "other.mp4", M.Scene(78).frames(10))
    clip = src[4 * M.FPS : 10 * M.FPS]
    for n in range(5):
        M.write_video(elsewhere / f"copy {n}.mp4", clip, crf=24 + n)
    query = M.write_video(tmp_path / "clip.mp4", clip, crf=27)
    options = ScanOptions(cache_dir=tmp_path / "cache")
    scan([mine, elsewhere], options, embedder=embedder)
    monkeypatch.setattr(search, "NEIGHBOURS", 4)  # room for the five copies' frames only
    # this generated scene is nearly symmetric: its mirror image would find the source anyway
    monkeypatch.setattr(search.Searcher, "_mirrored", lambda *args: {})

    with monkeypatch.context() as m:
        m.setattr(indexed, "WIDEN_TIMES", 0)
        (hidden,) = find_copies([query], options, roots=[mine], embedder=embedder).queries
    assert "source.mp4" not in {c.path.name for c in hidden.copies}  # what k alone gives

    result = find_copies([query], options, roots=[mine], embedder=embedder)
    assert result.library_source.startswith("the library index")
    found = {c.path.name: c for c in result.queries[0].copies}
    assert set(found) == {"source.mp4"}
    assert found["source.mp4"].kind is CopyKind.EXCERPT
    assert abs(found["source.mp4"].match_range[0] - 4.0) <= 1.0
