"""The picture inside a canvas: found for reposts, never invented for ordinary videos."""

import cv2
import pytest

from dedup_gui.core.scan.canvas import find_picture
from tests import media as M


def grey(frames):
    return [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]


def near(rect, want, tol):
    return all(abs(a - b) <= tol for a, b in zip(rect, want, strict=True))


@pytest.fixture(scope="module")
def clip():
    return M.Scene(31).frames(6, fps=2)


def test_picture_in_picture_on_a_blurred_copy_of_itself(clip):
    frames = grey(M.apply(clip, M.on_blurred_self(0.6, at=(0.3, 0.4))))
    rect = find_picture(frames)
    # 192x108 at (38, 28) in the 320x180 canvas
    assert rect is not None and near(rect, (38, 28, 230, 136), 8), rect


def test_vertical_repost_with_a_blurred_fill(clip):
    frames = grey(M.apply(clip, M.on_blurred_self(1.0, size=(180, 320))))
    rect = find_picture(frames)
    assert rect is not None and near(rect, (0, 109, 180, 211), 8), rect


def test_template_with_title_and_logo(clip):
    frames = grey(M.apply(clip, M.template(5)))
    rect = find_picture(frames)
    assert rect is not None and near(rect, (64, 55, 256, 163), 8), rect


def test_an_ordinary_video_keeps_its_whole_frame():
    for seed in (32, 33, 34):
        assert find_picture(grey(M.Scene(seed).frames(6, fps=2))) is None


def test_a_still_video_is_not_judged(clip):
    frames = grey([clip[0]] * 6)
    why: dict[str, object] = {}
    assert find_picture(frames, why) is None
    assert why["detail"] < 1.0
