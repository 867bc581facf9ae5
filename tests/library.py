"""The planted test library: which files are copies of which, made from synthetic scenes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests import media as M


@dataclass(frozen=True)
class Library:
    root: Path
    groups: list[frozenset[str]]  # planted duplicate groups (file names)
    distinct: list[str]  # files that must not be grouped
    hard_negatives: list[tuple[str, str]]  # pairs that must not share a group


def make_library(root: Path) -> Library:
    """Write the library under ``root`` (about 25 short videos)."""
    groups: list[frozenset[str]] = []

    def put(name: str, frames, **kw) -> str:
        M.write_video(root / name, frames, **kw)
        return name

    # 1: re-encodes, resize, crop, trim
    s1 = M.Scene(1).frames(8)
    g1 = [
        put("holiday.mp4", s1),
        put("sub/holiday copy.avi", s1, codec="mpeg4", crf=None, bitrate=400_000),
        put("holiday_small.mp4", M.apply(s1, M.resize(224, 126)), crf=30),
        put("holiday_crop.mkv", M.apply(s1, M.crop(0.88))),
        put("holiday_trim.mp4", M.apply(s1, M.trim(0.1, 0.8))),
    ]
    # 2: mirror, letterbox, grayscale
    s2 = M.Scene(2).frames(8)
    g2 = [
        put("party.mp4", s2),
        put("party_mirror.mp4", M.apply(s2, M.mirror)),
        put("party_4x3.mov", M.apply(s2, M.letterbox(4 / 3))),
        put("party_gray.webm", M.apply(s2, M.grayscale), codec="libvpx-vp9", crf=35),
    ]
    # 3: black intro, speed change, turned sideways
    s3 = M.Scene(3).frames(8)
    g3 = [
        put("garden.mp4", s3),
        put("garden_intro.mp4", M.apply(s3, M.black_intro(2))),
        put("garden_fast.mp4", M.apply(s3, M.speed(1.1))),
        put("garden_turned.mp4", M.apply(s3, M.turn(1))),
    ]
    # 4: reposts: vertical with a blurred fill, picture in picture, a template, a digital zoom
    s4 = M.Scene(8).frames(8)
    g4 = [
        put("concert.mp4", s4),
        put("concert_vertical.mp4", M.apply(s4, M.on_blurred_self(1.0, size=(180, 320)))),
        put("concert_pip.mp4", M.apply(s4, M.on_blurred_self(0.6, at=(0.7, 0.3)))),
        put("concert_template.mp4", M.apply(s4, M.template(5))),
        put("concert_zoom.mp4", M.apply(s4, M.zoom(1.3, at=(0.3, 0.6)))),
    ]
    groups = [frozenset(n.split("/")[-1] for n in g) for g in (g1, g2, g3, g4)]
    distinct = [put("alone.mp4", M.Scene(4).frames(8))]
    # hard negative: two cuts of one long shot
    shot = M.Scene(5)
    distinct += [
        put("shot_a.mp4", shot.frames(6, start=0)),
        put("shot_b.mp4", shot.frames(6, start=14)),
    ]
    # a shared logo intro alone is not a duplicate
    distinct += [
        put("logo_a.mp4", M.apply(M.Scene(6).frames(7), M.logo_intro(2))),
        put("logo_b.mp4", M.apply(M.Scene(7).frames(7), M.logo_intro(2))),
    ]
    # two different clips in the template of concert_template.mp4: never grouped
    distinct += [
        put("template_a.mp4", M.apply(M.Scene(10).frames(8), M.template(5))),
        put("template_b.mp4", M.apply(M.Scene(11).frames(8), M.template(5))),
    ]
    return Library(
        root=root,
        groups=groups,
        distinct=distinct,
        hard_negatives=[
            ("shot_a.mp4", "shot_b.mp4"),
            ("logo_a.mp4", "logo_b.mp4"),
            ("template_a.mp4", "template_b.mp4"),
            ("template_a.mp4", "concert_template.mp4"),
        ],
    )
