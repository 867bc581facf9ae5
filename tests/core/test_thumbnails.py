"""Colour thumbnails with rotation and a disk cache (no Qt)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dedup_gui.core.review import thumbnails as T
from dedup_gui.core.scan.decode.base import DecodeError
from tests import media as M


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 4 s clip whose left half is red and right half blue (so orientation is visible)."""
    frames = []
    for i in range(40):
        img = np.zeros((120, 200, 3), np.uint8)
        img[:, :100] = (220, 30, 30)
        img[:, 100:] = (30, 30, 220)
        img[:10, :10] = (i * 6) % 255  # a little motion
        frames.append(img)
    folder = tmp_path_factory.mktemp("thumbs")
    plain = M.write_video(folder / "plain.mp4", frames)
    rotated = M.write_video(folder / "rotated.mp4", frames, rotation=90)
    return plain, rotated


def test_strip_times_spread_over_the_duration():
    assert T.strip_times(10.0, 5) == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert T.strip_times(10.0, 0) == []


def test_decoded_frames_are_colour_scaled_and_in_order(clip):
    plain, _ = clip
    frames = T.decode_frames(plain, [3.0, 0.5, 2.0], side=100)
    assert all(f is not None for f in frames)
    f = frames[0]
    assert f.shape == (60, 100, 3)
    # colour survives: left red, right blue
    assert f[30, 20, 0] > 150 and f[30, 20, 2] < 90
    assert f[30, 80, 2] > 150 and f[30, 80, 0] < 90


def test_rotation_metadata_is_honoured(clip):
    _, rotated = clip
    (f,) = T.decode_frames(rotated, [1.0], side=100)
    assert f is not None
    assert f.shape[0] > f.shape[1]  # portrait: the display matrix was applied
    top, bottom = f[5, f.shape[1] // 2], f[-5, f.shape[1] // 2]
    # 90° counter-clockwise display rotation: the red (left) half ends up at the bottom
    assert {int(np.argmax(top)), int(np.argmax(bottom))} == {0, 2}


def test_disk_cache_is_keyed_by_file_identity_and_reused(clip, tmp_path, monkeypatch):
    plain, _ = clip
    cache = T.ThumbnailCache(tmp_path / "cache")
    src = T.ThumbSource.of(plain)
    first = T.thumbnails(src, [1.0, 2.0], 64, cache)
    assert all(f is not None for f in first)
    assert len(list((tmp_path / "cache").rglob("*.jpg"))) == 2

    def no_decode(*a, **k):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(T, "decode_frames", no_decode)
    again = T.thumbnails(src, [1.0, 2.0], 64, cache)
    for a, b in zip(first, again, strict=True):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 8  # JPEG round trip
    # another size or another file identity is another key
    assert cache.get(src, 1.0, 65) is None
    assert cache.get(T.ThumbSource(src.path, src.size + 1, src.mtime_ns), 1.0, 64) is None


def test_default_cache_lives_in_the_user_cache_folder():
    assert str(T.ThumbnailCache().folder).startswith(os.environ["XDG_CACHE_HOME"])
    assert T.ThumbnailCache(enabled=False).folder is None


def test_a_changed_file_is_not_thumbnailed_as_the_old_one(clip, tmp_path):
    plain, _ = clip
    src = T.ThumbSource.of(plain)
    stale = T.ThumbSource(src.path, src.size, src.mtime_ns - 1)
    with pytest.raises(OSError, match="changed"):
        T.thumbnails(stale, [1.0], 64, T.ThumbnailCache(tmp_path))


def test_not_a_video_raises_a_readable_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(DecodeError):
        T.thumbnails(T.ThumbSource.of(bad), [1.0], 64, T.ThumbnailCache(tmp_path / "c"))
