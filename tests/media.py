"""Synthetic test videos with planted duplicates, made with PyAV (no system ffmpeg needed).

A *scene* is procedural footage from a seed: a smooth random backdrop with texture, and a few
shapes that move along their own paths. Different seeds give different videos; a scene rendered
from another start time is "the same scene at another moment" (a hard negative).

Copies apply the edits users meet (re-encode, resize, crop, letterbox, mirror, grayscale, trim,
speed, black intro, logo intro) to the rendered frames before encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

W, H, FPS = 320, 180, 10


@dataclass(frozen=True)
class Scene:
    """Procedural footage; ``frame(t)`` renders the picture at ``t`` seconds."""

    seed: int
    width: int = W
    height: int = H

    def _params(self) -> tuple[np.ndarray, list[tuple], np.random.Generator]:
        """Backdrop and moving shapes; every seed draws its own look (layout, texture kind,
        palette, number and size of shapes), so different seeds are different footage."""
        rng = np.random.default_rng(self.seed)
        gh, gw = int(rng.integers(2, 8)), int(rng.integers(3, 12))
        palette = rng.random((2, 3))
        low = palette[0] + (palette[1] - palette[0]) * rng.random((gh, gw, 1))
        low = np.clip(low + rng.normal(0, 0.15, (gh, gw, 3)), 0, 1)
        backdrop = cv2.resize(low, (self.width, self.height), interpolation=cv2.INTER_CUBIC)
        yy, xx = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        kind = int(rng.integers(0, 4))
        freq, angle = rng.uniform(0.04, 0.25), rng.uniform(0, np.pi)
        if kind == 0:  # stripes
            tex = 0.5 + 0.5 * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))
        elif kind == 1:  # checker
            tex = ((np.floor(xx * freq / 3) + np.floor(yy * freq / 3)) % 2).astype(np.float32)
        elif kind == 2:  # blotches
            tex = cv2.resize(
                rng.random((int(rng.integers(6, 30)), int(rng.integers(8, 40)))),
                (self.width, self.height),
                interpolation=cv2.INTER_LINEAR,
            )
        else:  # fine grain
            tex = cv2.GaussianBlur(
                rng.random((self.height, self.width)), (0, 0), rng.uniform(0.8, 3)
            )
        backdrop = np.clip(backdrop * 0.75 + tex[..., None] * rng.uniform(0.2, 0.5), 0, 1)
        shapes = []
        for _ in range(int(rng.integers(3, 9))):
            shapes.append(
                (
                    rng.random(3),  # colour
                    rng.uniform(0.04, 0.22, 2),  # axes (fraction of width/height)
                    rng.uniform(0.1, 0.9, 2),  # centre
                    rng.uniform(-0.15, 0.15, 2),  # velocity (fraction per second)
                    rng.uniform(0.3, 1.6),  # wobble frequency
                    int(rng.integers(0, 3)),  # 0 ellipse, 1 rectangle, 2 triangle
                )
            )
        return backdrop, shapes, rng

    def frame(self, t: float) -> np.ndarray:
        """RGB uint8 frame at time ``t``."""
        backdrop, shapes, _ = _cached_params(self)
        img = (backdrop * 255).astype(np.uint8).copy()
        for colour, axes, centre, vel, freq, kind in shapes:
            c = centre + vel * t + 0.08 * np.sin(freq * t + axes * 7)
            c = np.abs(((c % 2.0) + 2.0) % 2.0)
            c = np.where(c > 1, 2 - c, c)
            cx, cy = int(c[0] * self.width), int(c[1] * self.height)
            ax = int(axes[0] * self.width), int(axes[1] * self.height)
            col = tuple(int(v * 255) for v in colour)
            if kind == 0:
                cv2.ellipse(img, (cx, cy), ax, float(40 * t * freq), 0, 360, col, -1)
            elif kind == 1:
                cv2.rectangle(img, (cx - ax[0], cy - ax[1]), (cx + ax[0], cy + ax[1]), col, -1)
            else:
                pts = np.array(
                    [[cx, cy - ax[1]], [cx - ax[0], cy + ax[1]], [cx + ax[0], cy + ax[1]]]
                )
                cv2.fillPoly(img, [pts.astype(np.int32)], col)
        return img

    def frames(self, duration: float, fps: float = FPS, start: float = 0.0) -> list[np.ndarray]:
        """Frames from ``start`` for ``duration`` seconds."""
        n = max(1, int(round(duration * fps)))
        return [self.frame(start + i / fps) for i in range(n)]


_PARAMS: dict[Scene, tuple] = {}


def _cached_params(scene: Scene) -> tuple:
    if scene not in _PARAMS:
        _PARAMS[scene] = scene._params()
    return _PARAMS[scene]


def write_video(
    path: Path,
    frames: Sequence[np.ndarray],
    fps: float = FPS,
    codec: str = "libx264",
    crf: int | None = 23,
    bitrate: int | None = None,
    rotation: int = 0,
    audio: bool = False,
) -> Path:
    """Encode RGB frames into ``path`` (container from the extension)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        rate = Fraction(fps).limit_denominator(1000)
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        opts = {}
        if crf is not None and codec in ("libx264", "libvpx-vp9"):
            opts["crf"] = str(crf)
        if codec == "libx264":
            opts["preset"] = "ultrafast"
        if codec == "libvpx-vp9":
            opts.update({"deadline": "realtime", "cpu-used": "8", "b": "0"})
        if bitrate:
            stream.bit_rate = bitrate
        stream.options = opts
        if rotation:
            stream.set_display_rotation(rotation)
        astream = out.add_stream("aac", rate=44100) if audio else None
        for i, img in enumerate(frames):
            img = np.ascontiguousarray(img[: stream.height, : stream.width])
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = i
            vf.time_base = 1 / rate
            for pkt in stream.encode(vf):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
        if astream is not None:
            n = int(len(frames) / fps * 44100)
            samples = (np.sin(np.arange(n) * 2 * np.pi * 440 / 44100) * 0.1).astype(np.float32)
            for k in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(
                    samples[None, k : k + 1024], format="flt", layout="mono"
                )
                af.sample_rate = 44100
                af.pts = k
                for pkt in astream.encode(af):
                    out.mux(pkt)
            for pkt in astream.encode():
                out.mux(pkt)
    return path


# ----------------------------------------------------------------------------- edits
Edit = Callable[[list[np.ndarray]], list[np.ndarray]]


def resize(w: int, h: int) -> Edit:
    return lambda fr: [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in fr]


def crop(keep: float) -> Edit:
    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        h, w = fr[0].shape[:2]
        ch, cw = int(h * keep) // 2 * 2, int(w * keep) // 2 * 2
        y, x = (h - ch) // 2, (w - cw) // 2
        return [np.ascontiguousarray(f[y : y + ch, x : x + cw]) for f in fr]

    return run


def letterbox(aspect: float = 4 / 3) -> Edit:
    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        h, w = fr[0].shape[:2]
        nh = int(w / aspect) // 2 * 2
        pad = (nh - h) // 2
        return [
            cv2.copyMakeBorder(f, pad, nh - h - pad, 0, 0, cv2.BORDER_CONSTANT, value=0) for f in fr
        ]

    return run


def mirror(fr: list[np.ndarray]) -> list[np.ndarray]:
    return [np.ascontiguousarray(f[:, ::-1]) for f in fr]


def turn(quarters: int) -> Edit:
    """Turn the pixels by 90-degree steps counter-clockwise (a re-saved sideways video)."""
    return lambda fr: [np.ascontiguousarray(np.rot90(f, quarters)) for f in fr]


def grayscale(fr: list[np.ndarray]) -> list[np.ndarray]:
    return [np.repeat(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None], 3, 2) for f in fr]


def trim(head: float, keep: float) -> Edit:
    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        a = int(len(fr) * head)
        return fr[a : a + max(1, int(len(fr) * keep))]

    return run


def speed(factor: float) -> Edit:
    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        n = max(1, int(len(fr) / factor))
        return [fr[min(len(fr) - 1, int(i * factor))] for i in range(n)]

    return run


def black_intro(seconds: float, fps: float = FPS) -> Edit:
    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        return [np.zeros_like(fr[0]) for _ in range(int(seconds * fps))] + fr

    return run


def logo_intro(seconds: float, fps: float = FPS) -> Edit:
    """Prepend a fixed animated logo card (the same for every video)."""

    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        h, w = fr[0].shape[:2]
        card = []
        for i in range(int(seconds * fps)):
            img = np.full((h, w, 3), (20, 30, 90), np.uint8)
            cv2.circle(img, (w // 2, h // 2), int(h * 0.3), (240, 200, 40), -1)
            cv2.putText(
                img,
                "LOGO",
                (w // 2 - 40 + i % 3, h // 2 + 10),
                cv2.FONT_HERSHEY_SIMPLEX,
                1.0,
                (20, 20, 20),
                3,
            )
            card.append(img)
        return card + fr

    return run


def apply(frames: list[np.ndarray], *edits: Edit) -> list[np.ndarray]:
    for e in edits:
        frames = e(frames)
    return frames


def on_blurred_self(scale: float, size: tuple[int, int] | None = None, at=(0.5, 0.5)) -> Edit:
    """The clip shown at ``scale`` on a blurred, enlarged copy of itself (picture in picture; a
    vertical repost with ``size=(w, h)`` taller than wide), placed at ``at`` (0..1 anchors)."""

    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        h, w = fr[0].shape[:2]
        cw, ch = size or (w, h)
        pw = int(min(cw, ch * w / h) * scale) // 2 * 2
        ph = int(pw * h / w) // 2 * 2
        x, y = int((cw - pw) * at[0]), int((ch - ph) * at[1])
        out = []
        for f in fr:
            back = cv2.GaussianBlur(cv2.resize(f, (cw, ch)), (0, 0), 12)
            back[y : y + ph, x : x + pw] = cv2.resize(f, (pw, ph), interpolation=cv2.INTER_AREA)
            out.append(back)
        return out

    return run


def template(seed: int, scale: float = 0.6) -> Edit:
    """The clip placed in a fixed template: a coloured canvas, a title band and a logo box,
    all drawn from ``seed`` (the same template for every clip given the same seed)."""

    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        h, w = fr[0].shape[:2]
        canvas = np.empty((h, w, 3), np.uint8)
        canvas[:] = rng.integers(40, 215, 3)
        canvas[: h // 6] = rng.integers(0, 255, 3)
        for i in range(6):  # "title" letters: static blocks in the band
            x0 = w // 8 + i * w // 10
            canvas[h // 24 : h // 8, x0 : x0 + w // 16] = 255 - canvas[0, 0]
        canvas[-h // 6 :, -w // 6 :] = rng.integers(0, 255, 3)  # logo
        pw, ph = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
        x, y = (w - pw) // 2, h // 6 + (h - h // 6 - ph) // 2
        out = []
        for f in fr:
            c = canvas.copy()
            c[y : y + ph, x : x + pw] = cv2.resize(f, (pw, ph), interpolation=cv2.INTER_AREA)
            out.append(c)
        return out

    return run


def zoom(factor: float, at=(0.5, 0.5)) -> Edit:
    """Digital zoom by ``factor`` into the point ``at`` (0..1 anchors), back to full size."""

    def run(fr: list[np.ndarray]) -> list[np.ndarray]:
        h, w = fr[0].shape[:2]
        cw, ch = int(w / factor), int(h / factor)
        x, y = int((w - cw) * at[0]), int((h - ch) * at[1])
        return [cv2.resize(f[y : y + ch, x : x + cw], (w, h)) for f in fr]

    return run


def snowfall(seed: int, duration: float, flakes: int = 400) -> list[np.ndarray]:
    """Footage that changes faster than one frame a second: a scene under falling snow.

    Every frame has its own flakes, so two frames a fraction of a second apart share none,
    while the scene behind them stays (as real snow, rain or a crowd looks when sampled).
    """
    scene = Scene(seed)
    out = []
    for i in range(int(round(duration * FPS))):
        img = scene.frame(i / FPS).copy()
        rng = np.random.default_rng(seed * 100003 + i)
        xs, ys = rng.integers(0, scene.width, flakes), rng.integers(0, scene.height, flakes)
        for x, y, r in zip(xs, ys, rng.integers(2, 6, flakes), strict=True):
            cv2.circle(img, (int(x), int(y)), int(r), (255, 255, 255), -1)
        out.append(img)
    return out
