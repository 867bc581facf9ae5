"""One contract, every decoder backend."""

import numpy as np
import pytest

from dedup_gui.core.scan.decode.base import DecodeError, get_backend
from dedup_gui.core.scan.sampling import Strategy
from tests import media as M

BACKENDS = ["pyav", "opencv"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = M.Scene(11).frames(4)
    for f in frames:  # a marker: the top-left corner is white, the rest of the top row dark
        f[:30, :30] = 255
        f[:30, 30:] = 0
    return M.write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", frames)


@pytest.mark.parametrize("name", BACKENDS)
def test_probe(clip, name):
    info = get_backend(name).probe(clip)
    p = info.probe
    assert (p.width, p.height) == (320, 180)
    assert p.duration == pytest.approx(4.0, abs=0.2)
    assert p.fps == pytest.approx(10.0, abs=0.1)
    assert "264" in p.codec or "avc" in p.codec


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("strategy", [Strategy.SEQUENTIAL, Strategy.SEEK])
def test_frames_at_timestamps(clip, name, strategy):
    b = get_backend(name)
    info = b.probe(clip)
    want = np.array([0.25, 1.55, 3.85], np.float32)
    got = list(b.read(clip, info, want, strategy, 512))
    assert len(got) == 3
    for (t, frame), w in zip(got, want, strict=True):
        assert abs(t - w) <= 0.1
        assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
        assert frame[5:20, 5:20].mean() > 200 and frame[5:20, 60:100].mean() < 60


@pytest.mark.parametrize("name", BACKENDS)
def test_rotation_metadata_gives_upright_frames(tmp_path, name):
    frames = M.Scene(12).frames(2)
    for f in frames:
        f[:30, :30] = 255
        f[:30, 30:] = 0
    # the stored picture is rotated 90 degrees clockwise; metadata says "rotate back"
    stored = [np.ascontiguousarray(np.rot90(f, -1)) for f in frames]
    path = M.write_video(tmp_path / "rot.mp4", stored, rotation=90)
    b = get_backend(name)
    info = b.probe(path)
    assert (info.probe.width, info.probe.height) == (320, 180)
    _, frame = next(iter(b.read(path, info, np.array([0.5], np.float32), Strategy.SEQUENTIAL, 512)))
    assert frame.shape == (180, 320, 3)
    assert frame[5:20, 5:20].mean() > 200


@pytest.mark.parametrize("name", BACKENDS)
def test_not_a_video(tmp_path, name):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(DecodeError):
        get_backend(name).probe(bad)
