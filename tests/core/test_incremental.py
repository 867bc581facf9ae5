"""Rescans with the library index: only new files are analysed and searched."""

from __future__ import annotations

from dedup_gui.core.index.library import find_libraries
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.pipeline import scan
from tests import media as M
from tests.conftest import paths_of


def test_a_new_copy_is_found_by_analysing_only_the_new_file(tmp_path, embedder):
    lib, cache = tmp_path / "lib", tmp_path / "cache"
    lib.mkdir()
    holiday = M.Scene(51).frames(6)
    M.write_video(lib / "holiday.mp4", holiday)
    M.write_video(lib / "party.mp4", M.Scene(52).frames(6))
    M.write_video(lib / "garden.mp4", M.Scene(53).frames(6))
    M.write_video(lib / "garden_small.mp4", M.apply(M.Scene(53).frames(6), M.resize(192, 108)))
    opts = ScanOptions(cache_dir=cache)
    first = scan([lib], opts, embedder=embedder)
    assert paths_of(first.groups) == {frozenset({"garden.mp4", "garden_small.mp4"})}
    assert first.stats.counts["index_added"] == 4

    M.write_video(lib / "holiday copy.mp4", M.apply(holiday, M.resize(256, 144)), crf=30)
    second = scan([lib], opts, embedder=embedder)
    c = second.stats.counts
    assert c["decoded"] == 1 and c["cache_hits"] == 4  # only the new file is analysed
    assert c["index_added"] == 1 and c["index_videos"] == 5  # and only it is searched
    assert paths_of(second.groups) == {
        frozenset({"garden.mp4", "garden_small.mp4"}),
        frozenset({"holiday.mp4", "holiday copy.mp4"}),
    }

    # the same answer as a scan that builds its index from scratch (in memory)
    fresh = scan([lib], ScanOptions(use_cache=False), embedder=embedder)
    assert paths_of(fresh.groups) == paths_of(second.groups)


def test_removed_and_changed_files_leave_the_index(tmp_path, embedder):
    lib, cache = tmp_path / "lib", tmp_path / "cache"
    lib.mkdir()
    scene = M.Scene(61).frames(6)
    M.write_video(lib / "a.mp4", scene)
    M.write_video(lib / "a_small.mp4", M.apply(scene, M.resize(192, 108)), crf=30)
    M.write_video(lib / "b.mp4", M.Scene(62).frames(6))
    opts = ScanOptions(cache_dir=cache)
    assert paths_of(scan([lib], opts, embedder=embedder).groups) == {
        frozenset({"a.mp4", "a_small.mp4"})
    }

    (lib / "a_small.mp4").unlink()  # gone
    M.write_video(lib / "b.mp4", M.Scene(63).frames(7))  # changed: other contents
    r = scan([lib], opts, embedder=embedder)
    c = r.stats.counts
    assert r.groups == ()
    assert c["index_pruned"] == 1 and c["index_removed"] == 1 and c["index_added"] == 1
    assert c["index_videos"] == 2
    (library,) = find_libraries(cache)
    with library:
        assert sorted(p.name for _, p, *_ in library.videos()) == ["a.mp4", "b.mp4"]
        backend = library.open_backend()
        assert backend is not None and backend.count() == library.stats()["frames"]
