"""Video-to-video similarity: whitening, region chamfer, temporal alignment, verification.

For two videos A and B (see docs/ACCURACY.md for the measurements behind each step):

1. **Frame similarity** (ViSiL's frame-to-frame chamfer): for frames a_i and b_j with region
   vectors, ``sim(i, j)`` is the mean over a_i's regions of the best-matching region of b_j,
   averaged with the reverse direction. Region vectors are whitened first (the library's
   statistics blended with a generic prior), which removes what all videos share.
2. **Temporal alignment**: the best line ``t_b = speed * t_a + offset`` through the frame
   similarity matrix (speeds 0.67x..1.5x). Each frame's evidence is its similarity to the frame
   the line maps it to, not its best match anywhere: copies line up in time, look-alike scenes
   do not.
3. **Score**: each aligned frame pair gives a match confidence in 0..1 (a linear ramp between
   the similarity of unrelated frames and that of near-identical ones); frames the line maps
   outside the other video count 0. The similarity of a full duplicate is the mean over both
   videos; of a partial match, the mean over the shorter one (query coverage).
4. **Verification** (the hard-negative guard): on tiny grey thumbnails of the aligned frames,
   each video's static background (its median frame) is removed and the residuals, i.e. what
   moves, are correlated. Copies move the same way at the same moments; two cuts of one scene,
   or two videos made from one template, do not. Videos with too little motion to tell are not
   held to this test.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

SPEEDS = np.array([1 / 1.5, 1 / 1.25, 1 / 1.1, 1.0, 1.1, 1.25, 1.5])
SPEED_PENALTY = 0.25
# Frame similarity (whitened region chamfer) of unrelated frames / of near-identical frames;
# the match confidence of an aligned frame pair ramps linearly between the two.
SIM_FLOOR = 0.15
SIM_FULL = 0.75
# A frame "matched" (for the matched-frames count) above this confidence.
MATCHED = 0.5
# Verification: residual energy (per-frame standardised thumbnails) below E_LO means the video
# is too static to judge; above E_HI the full residual correlation R_MAX is required.
E_LO, E_HI, R_MAX = 0.08, 0.15, 0.25
# Motion evidence: at clearly measurable motion (energy >= E_HI) the residual correlation,
# less this offset, is itself a score (same footage under heavy visual edits moves the same).
MOTION_OFFSET = 0.1
ZOOMS = (1.0, 1.08, 1.16, 1.25, 1.4)
# Where the zoomed window sits (share of the spare room above and left of it): the centre,
# and for the deeper zooms also the four corners, for off-centre crops and zooms.
ANCHORS: tuple[tuple[float, float], ...] = ((0.5, 0.5),)
CORNER_ANCHORS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
CORNER_MIN_ZOOM = 1.16
# Motion is judged on at least this many aligned frame pairs of non-common footage.
MIN_MOTION_PAIRS = 3
# Frames weighing less than this (common footage, see matching.common_weight) are left out of
# the motion check: a shared intro must not make two videos "move the same".
MOTION_MIN_WEIGHT = 0.5
# Weight of the generic prior in the whitening statistics, in "videos".
PRIOR_VIDEOS = 100.0


def _l2(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=axis, keepdims=True) + 1e-8)


# ----------------------------------------------------------------------------- whitening
@dataclass(frozen=True, eq=False)
class Whitening:
    """``x -> l2((x - mean) @ matrix)``."""

    mean: np.ndarray
    matrix: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Whiten and L2-normalise vectors along the last axis."""
        return _l2((x.astype(np.float32) - self.mean) @ self.matrix).astype(np.float32)

    @classmethod
    def identity(cls, dim: int) -> Whitening:
        """No whitening."""
        return cls(np.zeros(dim, np.float32), np.eye(dim, dtype=np.float32))


def fit_whitening(
    regions: list[np.ndarray],
    prior: tuple[np.ndarray, np.ndarray] | None,
    max_vectors: int = 200_000,
    shrink: float = 0.1,
) -> Whitening:
    """Whitening from the library's region vectors blended with a generic prior.

    The library weighs ``n / (n + PRIOR_VIDEOS)`` where n counts videos (frames of one video
    are far from independent), so a small library leans on the prior and a large one on its
    own statistics. The covariance is shrunk towards a scaled identity for stability.

    Args:
        regions: Per video, (n_frames, r, d) region vectors of informative frames.
        prior: Generic (mean, covariance), or None.
        max_vectors: Sub-sample at most this many library vectors.
        shrink: Shrinkage towards the identity.
    """
    vids = [r.reshape(-1, r.shape[-1]) for r in regions if len(r)]
    dim = prior[0].shape[0] if prior is not None else (vids[0].shape[1] if vids else 0)
    if not vids and prior is None:
        return Whitening.identity(dim or 1)
    if vids:
        total = sum(len(v) for v in vids)
        if total > max_vectors:
            # pick the sample's rows first: a large library's vectors are never all copied
            rng = np.random.default_rng(0)
            pick = np.sort(rng.choice(total, max_vectors, replace=False))
            starts = np.cumsum([0] + [len(v) for v in vids])
            owner = np.searchsorted(starts, pick, side="right") - 1
            x = np.empty((max_vectors, vids[0].shape[1]), np.float32)
            for v in np.unique(owner):
                rows = owner == v
                x[rows] = vids[v][pick[rows] - starts[v]]
        else:
            x = np.concatenate(vids).astype(np.float32)
        mu_l = x.mean(0, dtype=np.float64)
        xc = x - mu_l.astype(np.float32)
        # one float32 matrix product (a BLAS call that releases the GIL), summed in float64
        cov_l = (xc.T @ xc).astype(np.float64) / max(len(x) - 1, 1)
    if prior is None:
        w_lib = 1.0
        mu, cov = mu_l, cov_l
    elif not vids:
        mu, cov = prior
        w_lib = 0.0
    else:
        w_lib = len(vids) / (len(vids) + PRIOR_VIDEOS)
        mu = w_lib * mu_l + (1 - w_lib) * prior[0]
        cov = w_lib * cov_l + (1 - w_lib) * prior[1]
    d = cov.shape[0]
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / d * np.eye(d)
    evals, evecs = np.linalg.eigh(cov)
    evals = np.maximum(evals, 1e-9 * evals.max())
    matrix = evecs / np.sqrt(evals)
    log.info("whitening from %d videos (library weight %.2f)", len(vids), w_lib)
    return Whitening(mu.astype(np.float32), matrix.astype(np.float32))


# ----------------------------------------------------------------------------- frames
def frame_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symmetric region chamfer between the frames of two videos.

    Args:
        a: (na, r, d) whitened region vectors.
        b: (nb, r, d) whitened region vectors.

    Returns:
        (na, nb) frame similarities.
    """
    na, r, d = a.shape
    nb = b.shape[0]
    if na == 0 or nb == 0:
        return np.zeros((na, nb), np.float32)
    s = (a.reshape(-1, d) @ b.reshape(-1, d).T).reshape(na, r, nb, r)
    ab = s.max(axis=3).mean(axis=1)
    ba = s.max(axis=1).mean(axis=2)
    return (0.5 * (ab + ba)).astype(np.float32)


def confidence(sim: np.ndarray) -> np.ndarray:
    """Match confidence 0..1 of frame similarities."""
    return np.clip((sim - SIM_FLOOR) / (SIM_FULL - SIM_FLOOR), 0.0, 1.0)


# ----------------------------------------------------------------------------- alignment
@dataclass(frozen=True, eq=False)
class Alignment:
    """The best temporal line through a frame-similarity matrix.

    Attributes:
        speed: B's time per A's time (t_b = speed * t_a + offset).
        offset: Seconds.
        conf_a: (na,) match confidence of each A frame at its aligned B frame (0 outside).
        conf_b: (nb,) the same for B frames.
        pairs: (k, 2) aligned (i, j) frame index pairs (within both videos' ranges).
    """

    speed: float
    offset: float
    conf_a: np.ndarray
    conf_b: np.ndarray
    pairs: np.ndarray


# Up to this many destination frames, comparing every one is cheaper than finding the window's.
DENSE_DST = 12


def _aligned_conf(
    m: np.ndarray, t_src: np.ndarray, t_dst: np.ndarray, pred: np.ndarray, window: float
) -> tuple[np.ndarray, np.ndarray]:
    """Best confidence within ``window`` of each predicted time, per line and source frame.

    Destination times ascend, so the frames within a window are a short run: beyond
    :data:`DENSE_DST` destination frames they are found with a binary search and only they
    are compared (first best in time order on ties, as the dense comparison gives).

    Returns:
        The confidences and the index of the chosen destination frame (-1 when none).
    """
    n_dst = len(t_dst)
    if n_dst <= DENSE_DST:
        d = np.abs(t_dst[None, None, :] - pred[:, :, None])  # (lines, n_src, n_dst)
        dense = np.where(d <= window, m[None], -1.0)
        at = dense.argmax(axis=2)
        top = np.take_along_axis(dense, at[..., None], axis=2)[..., 0]
        found = top > -1.0
        return np.where(found, top, 0.0), np.where(found, at, -1)
    eps = 1e-6 * (1.0 + float(np.abs(t_dst).max(initial=0.0)) + abs(window))
    lo = np.searchsorted(t_dst, pred - window - eps, side="left")
    hi = np.searchsorted(t_dst, pred + window + eps, side="right")
    width = int((hi - lo).max(initial=0))
    best = np.full(pred.shape, -1.0)
    idx = np.zeros(pred.shape, np.int64)
    src = np.arange(pred.shape[1])[None, :]
    for r in range(width):
        j = np.minimum(lo + r, n_dst - 1)
        inwin = (lo + r < hi) & (np.abs(t_dst[j] - pred) <= window)
        vals = np.where(inwin, m[src, j], -1.0)
        better = vals > best
        best = np.where(better, vals, best)
        idx = np.where(better, j, idx)
    ok = best > -1.0
    return np.where(ok, best, 0.0), np.where(ok, idx, -1)


def align(
    m: np.ndarray, ta: np.ndarray, tb: np.ndarray, raw: np.ndarray | None = None, top_k: int = 3
) -> Alignment:
    """Find the temporal line that best explains the confidence matrix ``m`` (na, nb).

    A line is scored by how much of the shorter video it covers plus how well the longer
    video's frames *inside the overlap* match, so mapping more of the longer video into the
    overlap (a wrong speed on texture-like footage) earns nothing. Speed changes pay a small
    prior; ties (a static video, where every line looks perfect) go to the raw similarity
    along the line, then to normal speed.
    """
    na, nb = m.shape
    raw = m if raw is None else raw
    if na == 0 or nb == 0:
        return Alignment(1.0, 0.0, np.zeros(na), np.zeros(nb), np.zeros((0, 2), int))
    step_a = float(np.median(np.diff(ta))) if na > 1 else 1.0
    step_b = float(np.median(np.diff(tb))) if nb > 1 else 1.0
    win_a, win_b = 0.75 * step_a, 0.75 * step_b
    a_is_short = (ta[-1] - ta[0] + step_a) <= (tb[-1] - tb[0] + step_b)
    k = min(top_k, nb)
    top = np.argsort(-m, axis=1)[:, :k]
    best_total: tuple[float, float, float] = (-1e9, -1e9, -1e9)
    best = None
    for speed in sorted(SPEEDS, key=lambda s: abs(np.log(s))):
        offsets = np.unique(np.round((tb[top] - speed * ta[:, None]).ravel(), 2))
        pred_b = speed * ta[None, :] + offsets[:, None]
        pred_a = (tb[None, :] - offsets[:, None]) / speed
        conf_a, idx_a = _aligned_conf(m, ta, tb, pred_b, win_b)
        conf_b, idx_b = _aligned_conf(m.T, tb, ta, pred_a, win_a)
        raw_a, _ = _aligned_conf(raw, ta, tb, pred_b, win_b)
        if a_is_short:
            cover, inside, n_in = conf_a.mean(axis=1), conf_b.sum(axis=1), (idx_b >= 0).sum(axis=1)
        else:
            cover, inside, n_in = conf_b.mean(axis=1), conf_a.sum(axis=1), (idx_a >= 0).sum(axis=1)
        precision = inside / np.maximum(n_in, 1)
        total = np.round(cover + precision - SPEED_PENALTY * abs(np.log(speed)), 3)
        tie = raw_a.mean(axis=1)
        j = int(np.lexsort((-tie, -total))[0])
        cand = (float(total[j]), float(tie[j]), -abs(float(np.log(speed))))
        if cand > best_total:
            best_total = cand
            ia = np.nonzero(idx_a[j] >= 0)[0]
            best = (
                float(speed),
                float(offsets[j]),
                conf_a[j],
                conf_b[j],
                np.stack([ia, idx_a[j][ia]], 1),
            )
    assert best is not None
    return Alignment(*best)


def best_matches(m: np.ndarray) -> Alignment:
    """Plain chamfer, no temporal model: every frame takes its best match anywhere."""
    na, nb = m.shape
    if na == 0 or nb == 0:
        return Alignment(1.0, 0.0, np.zeros(na), np.zeros(nb), np.zeros((0, 2), int))
    pairs = np.stack([np.arange(na), m.argmax(axis=1)], axis=1)
    return Alignment(1.0, 0.0, m.max(axis=1), m.max(axis=0), pairs)


# ----------------------------------------------------------------------------- verification
@dataclass(frozen=True, slots=True)
class Verification:
    """Pixel-level check of aligned frames (see the module docstring)."""

    residual: float  # pooled correlation of the moving parts
    energy: float  # how much moves, 0 = static
    required: float  # residual correlation needed at this energy
    flipped: bool
    ncc: float  # median correlation of the whole aligned thumbnails

    @property
    def passed(self) -> bool:
        """Whether the two videos show the same moments (or are too static to tell)."""
        return self.energy < E_LO or self.residual >= self.required


def _standardise(t: np.ndarray) -> np.ndarray:
    t = t.astype(np.float32)
    return (t - t.mean(axis=(1, 2), keepdims=True)) / (t.std(axis=(1, 2), keepdims=True) + 1e-3)


# Channels OpenCV resizes in one call (CV_CN_MAX: 512 in OpenCV 4, 128 in OpenCV 5).
CV_CHANNELS = 128


def _zoom(x: np.ndarray, z: float, anchor: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Zoom by ``z`` of (n, h, w) thumbnails (:func:`_zoom_windows` with one window).

    ``anchor`` places the window: (0.5, 0.5) the centre, (0, 0) the top left corner.
    """
    if z == 1.0 or not len(x):
        return x
    return _zoom_windows(x, [(z, anchor)])[0]


def _windows() -> list[tuple[float, tuple[float, float]]]:
    """The zoomed windows tried, in the order of the search: (zoom, anchor), zoom > 1."""
    return [
        (z, at)
        for z in ZOOMS
        if z > 1.0
        for at in ANCHORS + (CORNER_ANCHORS if z >= CORNER_MIN_ZOOM else ())
    ]


def _zoom_windows(x: np.ndarray, windows: list[tuple[float, tuple[float, float]]]) -> np.ndarray:
    """(len(windows), n, h, w): :func:`_zoom` of ``x`` through every window.

    The windows of one zoom share a crop size, so their crops go through OpenCV as the
    channels of one image (:data:`CV_CHANNELS` at once): a few resize calls, not one a window.
    """
    import cv2

    n, h, w = x.shape
    out = np.empty((len(windows), n, h, w), np.float32)
    by_zoom: dict[float, list[int]] = {}
    for i, (z, _) in enumerate(windows):
        by_zoom.setdefault(z, []).append(i)
    for z, rows in by_zoom.items():
        ch, cw = round(h / z), round(w / z)
        crops = []
        for i in rows:
            ay, ax = windows[i][1]
            y0, x0 = round((h - ch) * ay), round((w - cw) * ax)
            crops.append(x[:, y0 : y0 + ch, x0 : x0 + cw])
        stack = np.ascontiguousarray(np.moveaxis(np.concatenate(crops), 0, -1))  # (ch, cw, m)
        parts = [
            cv2.resize(stack[:, :, i : i + CV_CHANNELS], (w, h)).reshape(h, w, -1)
            for i in range(0, stack.shape[2], CV_CHANNELS)
        ]
        zoomed = np.moveaxis(np.concatenate(parts, axis=2), -1, 0).reshape(len(rows), n, h, w)
        out[rows] = zoomed
    return out


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows (last two axes flattened) centred and scaled to unit norm: NCC is then a dot."""
    x = x.reshape(*x.shape[:-2], -1)
    x = x - x.mean(-1, keepdims=True)
    return x / (np.sqrt((x * x).sum(-1, keepdims=True)) + 1e-6)


# Aligned frame pairs whose zoomed windows are held at once (memory: ~200 KB a pair).
VERIFY_CHUNK = 256


View = tuple[bool, int, tuple[float, tuple[float, float]]]  # flip B, side zoomed, window


def _views(windows: list[tuple[float, tuple[float, float]]]) -> list[View]:
    """The views the motion check tries, in the order :func:`_window_scores` scores them.

    Per flip of B (no, yes): side 0 zooms A (the whole frame, then every window), side 1 zooms
    B (every window).
    """
    views: list[View] = []
    for flip in (False, True):
        views.append((flip, 0, (1.0, ANCHORS[0])))
        views += [(flip, 0, w) for w in windows]
        views += [(flip, 1, w) for w in windows]
    return views


def _window_scores(
    xa: np.ndarray, xb: np.ndarray, windows: list[tuple[float, tuple[float, float]]]
) -> np.ndarray:
    """Median NCC of aligned thumbnails through every view of :func:`_views`, in its order."""
    rows: list[np.ndarray] = []
    for lo in range(0, len(xa), VERIFY_CHUNK):
        a, b = xa[lo : lo + VERIFY_CHUNK], xb[lo : lo + VERIFY_CHUNK]
        ua = _unit_rows(np.concatenate([a[None], _zoom_windows(a, windows)]))  # (1+W, k, P)
        per_flip = []
        for yb in (b, np.ascontiguousarray(b[:, :, ::-1])):
            ub = _unit_rows(yb)
            uzb = _unit_rows(_zoom_windows(yb, windows))
            per_flip.append(np.einsum("vkp,kp->vk", ua, ub))  # side 0
            per_flip.append(np.einsum("vkp,kp->vk", uzb, ua[0]))  # side 1
        rows.append(np.concatenate(per_flip))
    return np.median(np.concatenate(rows, axis=1), axis=1)


def verify(
    thumbs_a: np.ndarray,
    thumbs_b: np.ndarray,
    inf_a: np.ndarray,
    inf_b: np.ndarray,
    pairs: np.ndarray,
) -> Verification:
    """Correlate what moves in the aligned frames of two videos.

    B is tried as it is and mirrored, A zoomed into and B zoomed into (centred windows, and
    for the deeper zooms also the corners): the best median correlation of the aligned
    thumbnails picks the view in which the moving parts (residuals after each video's
    background) are correlated. All views are scored at once (:func:`_window_scores`).

    Args:
        thumbs_a: (na, t, t) uint8 thumbnails of A (all frames).
        thumbs_b: (nb, t, t) uint8 thumbnails of B.
        inf_a: (na,) frames of A that make its background (informative, not common footage).
        inf_b: (nb,) the same for B.
        pairs: (k, 2) aligned (i, j) indices into the full frame arrays, common footage (a
            shared intro) left out by the caller.

    Returns:
        The verification; with fewer than :data:`MIN_MOTION_PAIRS` pairs motion cannot be
        judged: it then passes with no motion evidence, and the visual similarity decides.
    """
    if len(pairs) < MIN_MOTION_PAIRS:
        return Verification(0.0, 0.0, 0.0, False, 0.0)
    ta, tb = _standardise(thumbs_a), _standardise(thumbs_b)
    bg_a = np.median(ta[inf_a], axis=0) if inf_a.any() else np.zeros(ta.shape[1:], np.float32)
    bg_b = np.median(tb[inf_b], axis=0) if inf_b.any() else np.zeros(tb.shape[1:], np.float32)
    xa, xb = ta[pairs[:, 0]], tb[pairs[:, 1]]
    ra, rb = xa - bg_a, xb - bg_b
    windows = _windows()
    scores = _window_scores(xa, xb, windows)
    best = int(np.argmax(scores))  # the first best, as a search in that order keeps it
    flip, side, (z, at) = _views(windows)[best]
    ncc = float(scores[best])
    qa = ra if side == 1 else _zoom(ra, z, at)
    qb = rb[:, :, ::-1] if flip else rb
    qb = _zoom(qb, z, at) if side == 1 else qb
    resid = float((qa * qb).sum() / (np.sqrt((qa * qa).sum() * (qb * qb).sum()) + 1e-6))
    energy = float(min(np.sqrt(np.mean(qa * qa)), np.sqrt(np.mean(qb * qb))))
    required = R_MAX * float(np.clip((energy - E_LO) / (E_HI - E_LO), 0.0, 1.0))
    return Verification(resid, energy, required, flip, ncc)


def motion_score(residual: float, energy: float) -> float:
    """Motion evidence 0..1: how well what moves matches, when enough moves to tell.

    Two cuts of one scene or two videos of one template stay near 0; copies under visual
    edits that blind the appearance features (heavy blur, strong crops) keep a high value.
    """
    if energy < E_HI:
        return 0.0
    return float(np.clip(residual - MOTION_OFFSET, 0.0, 1.0))
