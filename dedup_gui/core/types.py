"""Typed values that flow between the engine's stages.

Every arrow of the data flow has a type here::

    roots + ScanOptions -> VideoFile | Problem -> Probe -> VideoFeatures -> Match
        -> DuplicateGroup -> ScanResult -> TrashPlan -> ActionResult

All values are frozen: a :class:`ScanResult` crosses the worker/GUI thread boundary once and is
never mutated afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class VideoFile:
    """A candidate video found on disk.

    Attributes:
        path: Absolute path (not resolved through symlinks).
        size: Size in bytes.
        mtime_ns: Modification time in nanoseconds.
        root: The scan root this file was found under.
    """

    path: Path
    size: int
    mtime_ns: int
    root: Path

    @property
    def key(self) -> tuple[str, int, int]:
        """The cache identity of this file: (path, size, mtime_ns)."""
        return (str(self.path), self.size, self.mtime_ns)


class Stage(StrEnum):
    """Where a per-file problem happened."""

    DISCOVER = "discover"
    HASH = "hash"
    PROBE = "probe"
    DECODE = "decode"
    EMBED = "embed"
    CACHE = "cache"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class Problem:
    """A per-file failure or warning; the scan always goes on.

    Attributes:
        path: The file or folder concerned.
        stage: Where it happened.
        reason: A human-readable reason ("no video stream (audio only)").
        skipped: True when the file was left out of the comparison; False for a warning about
            a file that was still compared (e.g. a damaged tail).
    """

    path: Path
    stage: Stage
    reason: str
    skipped: bool = True


@dataclass(frozen=True, slots=True)
class Probe:
    """Stream facts about one video, read without decoding the whole file.

    ``width`` and ``height`` are the displayed size, i.e. after applying ``rotation``.
    Zero means unknown for numeric fields.
    """

    duration: float
    width: int
    height: int
    fps: float
    codec: str
    bitrate: int
    has_audio: bool
    rotation: int
    container: str
    frame_count: int = 0

    @property
    def pixels(self) -> int:
        """Frame area in pixels (for "highest resolution" rules)."""
        return self.width * self.height


@dataclass(frozen=True, eq=False)
class VideoFeatures:
    """Per-frame descriptors of one video.

    Attributes:
        timestamps: (n,) seconds of each sampled frame.
        vectors: (n, d) float32 global frame vectors, L2-normalised.
        regions: (n, r, d_r) float16 region vectors (ViSiL-style 3x3 pooling), L2-normalised.
        thumbs: (n, t, t) uint8 tiny grey thumbnails, used to verify that two videos show the
            same moments (not just the same scene).
        informative: (n,) bool; False for near-uniform (black, white, flat) frames, which are
            never evidence for a match.
        crop: (x0, y0, x1, y1) the picture area (black borders and any canvas removed), in
            pixels of the decoded frame.
        full_regions: When the picture sits inside a canvas (picture-in-picture, vertical
            repost, frame, template): region vectors of the whole frame (borders removed), a
            second view for matching; else None.
        full_thumbs: The thumbnails of that view, or None.
        full_crop: The area of that view, or None.
    """

    timestamps: np.ndarray
    vectors: np.ndarray
    regions: np.ndarray
    thumbs: np.ndarray
    informative: np.ndarray
    crop: tuple[int, int, int, int]
    full_regions: np.ndarray | None = None
    full_thumbs: np.ndarray | None = None
    full_crop: tuple[int, int, int, int] | None = None

    @property
    def n_frames(self) -> int:
        """Number of sampled frames."""
        return int(self.timestamps.shape[0])

    @property
    def n_informative(self) -> int:
        """Number of frames that can count as evidence."""
        return int(self.informative.sum())


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """A scanned file with what the scan learned about it (no heavy arrays)."""

    path: Path
    size: int
    mtime_ns: int
    root: Path
    probe: Probe | None = None
    is_reference: bool = False

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.name


class GroupKind(StrEnum):
    """Why the files of a group belong together."""

    IDENTICAL = "identical"  # byte-for-byte the same content
    NEAR_DUPLICATE = "near-duplicate"  # same video, different encoding/size/edits
    PARTIAL = "partial"  # a member is an excerpt of the reference (or the reverse)


@dataclass(frozen=True, slots=True)
class MatchEvidence:
    """Why a member matched its group's reference.

    Attributes:
        score: Calibrated similarity 0..1 shown to the user (1.0 for identical files).
        kind: identical, near-duplicate or partial.
        matched_frames: Member frames whose best match in the reference passed the strict
            frame threshold.
        compared_frames: Informative member frames compared.
        offset: Median (reference time - member time) over aligned frame matches, seconds.
        ref_range: (start, end) seconds of the reference covered by the match.
        member_range: (start, end) seconds of the member covered by the match.
        flipped: True when the member matched as a mirror image of the reference.
        speed: Estimated playback speed of the member relative to the reference.
        rotation: Degrees (clockwise quarter turns x 90) the member's picture is turned
            relative to the reference.
    """

    score: float
    kind: GroupKind
    matched_frames: int = 0
    compared_frames: int = 0
    offset: float = 0.0
    ref_range: tuple[float, float] = (0.0, 0.0)
    member_range: tuple[float, float] = (0.0, 0.0)
    flipped: bool = False
    speed: float = 1.0
    rotation: int = 0


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One file of a duplicate group; ``evidence`` is None for the reference itself."""

    file: VideoInfo
    similarity: float
    evidence: MatchEvidence | None = None


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Files that show the same video.

    Every member matched ``members[reference]`` directly (groups never chain through a third
    file); ``similarity`` is relative to it. ``members[keep]`` is the suggested file to keep
    (highest resolution, then bitrate, then size).
    """

    id: int
    kind: GroupKind
    members: tuple[GroupMember, ...]
    reference: int = 0
    keep: int = 0

    @property
    def reference_member(self) -> GroupMember:
        """The file every other member matched."""
        return self.members[self.reference]

    @property
    def keeper(self) -> GroupMember:
        """The suggested file to keep."""
        return self.members[self.keep]

    @property
    def paths(self) -> list[Path]:
        """Member paths in order."""
        return [m.file.path for m in self.members]

    @property
    def reclaimable(self) -> int:
        """Bytes freed by keeping only the suggested keeper."""
        return sum(m.file.size for i, m in enumerate(self.members) if i != self.keep)


@dataclass(frozen=True, slots=True)
class ScanStats:
    """Counts and per-stage timings of a scan."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything a finished (or cancelled) scan produced."""

    groups: tuple[DuplicateGroup, ...]
    problems: tuple[Problem, ...]
    files: tuple[VideoInfo, ...]
    stats: ScanStats
    cancelled: bool = False
    roots: tuple[Path, ...] = ()
    notices: tuple[str, ...] = ()  # scan-wide messages (e.g. a damaged cache was set aside)


class ActionKind(StrEnum):
    """What a file action does."""

    TRASH = "trash"
    MOVE = "move"
    QUARANTINE = "quarantine"
    DELETE = "delete"  # permanent; only behind its own explicit confirmation


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """A file the user chose to act on, with what the scan saw of it."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class TrashPlan:
    """A confirmed-by-the-user list of files to act on.

    ``protected`` lists reference folders (and reference files): nothing inside them is ever
    acted on, whatever the plan's files say.
    """

    kind: ActionKind
    files: tuple[PlannedFile, ...]
    destination: Path | None = None  # for MOVE / QUARANTINE
    protected: tuple[Path, ...] = ()

    @property
    def total_bytes(self) -> int:
        """Bytes the plan would free (or move)."""
        return sum(f.size for f in self.files)


class ActionStatus(StrEnum):
    """How acting on one file ended."""

    DONE = "done"  # verified: gone from the source (and present at the destination)
    FAILED = "failed"  # the action failed or could not be verified; the file stays marked
    CHANGED = "changed"  # changed on disk since the scan: not touched, ask the user again
    MISSING = "missing"  # already gone before the action
    REFUSED = "refused"  # in a reference folder, or deletion without its own confirmation
    UNAVAILABLE = "unavailable"  # the system trash cannot take it here: offer the quarantine


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of acting on one file.

    ``status`` tells failures apart; it defaults to DONE or FAILED from ``ok``.
    """

    path: Path
    ok: bool
    kind: ActionKind
    destination: Path | None = None
    error: str = ""
    status: ActionStatus | None = None

    def __post_init__(self) -> None:
        if self.status is None:
            status = ActionStatus.DONE if self.ok else ActionStatus.FAILED
            object.__setattr__(self, "status", status)

    @property
    def needs_confirmation(self) -> bool:
        """The file changed since the scan: act on it only after asking the user again."""
        return self.status is ActionStatus.CHANGED
