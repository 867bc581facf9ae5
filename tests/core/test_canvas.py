"""The picture inside a canvas: found for reposts, never invented for ordinary videos."""

import cv2
import numpy as np
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


def night_sky(seed, n=8, w=320, h=180):
    """Sparse bright particles drifting over black (snow, stars, sparks at night)."""
    rng = np.random.default_rng(seed)
    pts = rng.random((150, 2)) * (w, h)
    vel = rng.normal(0, 6, (150, 2)) + np.array([0.0, 12.0])
    radii = rng.integers(1, 3, 150)
    out = []
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        for (x, y), r in zip((pts + vel * i) % (w, h), radii, strict=True):
            cv2.circle(img, (int(x), int(y)), int(r), (255, 255, 255), -1)
        out.append(img)
    return out


def on_still_image(scale, size=(180, 320), at=(0.5, 0.55)):
    """The clip at ``scale`` of the width on a blurred still image (a vertical canvas)."""

    def run(fr):
        h, w = fr[0].shape[:2]
        cw, ch = size
        back = cv2.GaussianBlur(cv2.resize(M.Scene(40).frame(0), (cw, ch)), (0, 0), 4)
        pw = int(cw * scale) // 2 * 2
        ph = int(pw * h / w) // 2 * 2
        x, y = int((cw - pw) * at[0]), int((ch - ph) * at[1])
        out = []
        for f in fr:
            c = back.copy()
            c[y : y + ph, x : x + pw] = cv2.resize(f, (pw, ph), interpolation=cv2.INTER_AREA)
            out.append(c)
        return out

    return run


def test_a_small_picture_enclosed_by_four_edges(clip):
    # 80x44 at (50, 153) of a 180x320 vertical canvas: 6% of the frame, under the 8% that a
    # picture needs when not all of its sides are strong edges
    frames = grey(M.apply(clip, on_still_image(0.45)))
    rect = find_picture(frames)
    assert rect is not None and near(rect, (50, 153, 130, 197), 6), rect


def test_a_dark_picture_on_its_blurred_self_has_no_edge_lines():
    # particles over black meet their own blurred copy without any straight edge: found by
    # the detail-less surroundings, 192x108 at (64, 36)
    frames = grey(M.apply(night_sky(3), M.on_blurred_self(0.6)))
    why: dict[str, object] = {}
    rect = find_picture(frames, why)
    assert "detail_rect" in why, why  # the edge lines did not find it
    assert rect is not None and near(rect, (64, 36, 256, 144), 8), rect


def test_a_faint_fourth_side_is_looked_for_again(clip):
    # a template whose picture fades into the canvas's colour on the right: three strong
    # sides, and a faint fourth at x = 232
    h, w, (x, y, pw, ph) = 180, 320, (40, 44, 192, 108)
    fade = 0.97 * np.clip((np.arange(pw) - pw * 0.55) / (pw * 0.45), 0, 1)[None, :, None]
    frames = []
    for f in clip:
        c = np.full((h, w, 3), 170, np.float32)
        c[:24] = (60, 40, 120)
        p = cv2.resize(f, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
        c[y : y + ph, x : x + pw] = p * (1 - fade) + 170 * fade
        frames.append(cv2.cvtColor(c.astype(np.uint8), cv2.COLOR_RGB2GRAY))
    rect = find_picture(frames)
    assert rect is not None and near(rect, (40, 44, 232, 152), 8), rect


def test_a_subject_on_a_plain_black_backdrop_keeps_its_whole_frame():
    # no detail around the subject, but its outline is no straight line
    for seed in (32, 33, 34):
        tex = M.Scene(seed).frame(0)
        frames = []
        for i in range(8):
            mask = np.zeros((180, 320), np.uint8)
            centre = (110 + 12 * i, 90 + int(8 * np.sin(i)))
            cv2.ellipse(mask, centre, (60, 45), 10 * i, 0, 360, 255, -1)
            img = np.zeros((180, 320, 3), np.uint8)
            img[mask > 0] = np.roll(tex, 7 * i, axis=1)[mask > 0]
            frames.append(img)
        assert find_picture(grey(frames)) is None, seed
    assert find_picture(grey(night_sky(3))) is None
