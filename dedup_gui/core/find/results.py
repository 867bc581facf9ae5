"""What Find copies returns: ranked copies per query, or why there is nothing to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dedup_gui.core.types import MatchEvidence, Problem, VideoInfo

NOT_SCANNED_MESSAGE = "This library has not been scanned yet — scan it first?"


class CopyKind(StrEnum):
    """How a library file relates to the query."""

    SAME = "same video"
    MIRRORED = "mirrored"
    TURNED = "turned"
    EXCERPT = "excerpt"  # the query is cut from this file
    CONTAINS = "contains the clip"  # this file is cut from the query (the query contains it)


KIND_HELP = {
    CopyKind.SAME: "the same video (re-encoded, resized, cropped… or identical)",
    CopyKind.MIRRORED: "the same video, mirrored",
    CopyKind.TURNED: "the same video, turned by 90, 180 or 270 degrees",
    CopyKind.EXCERPT: "the query is an excerpt cut from this file",
    CopyKind.CONTAINS: "this file is a clip cut from the query",
}


class FindStatus(StrEnum):
    """Whether the search could run."""

    OK = "ok"
    NOT_SCANNED = "not scanned"  # nothing analysed under the roots: scan first
    NO_QUERY = "no query"  # no query file could be analysed
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FoundCopy:
    """One library file that holds (part of) the query.

    Attributes:
        file: The library file (``is_reference`` for files in reference folders).
        similarity: The deciding score, 0..1 (as a scan's, with partial mode on).
        kind: How it relates to the query.
        query_range: Seconds of the query that match (start, end).
        match_range: Seconds of this file that match (start, end).
        evidence: The file as seen from the query (frames matched, offset, speed, mirrored,
            rotation) in the form the groups view uses.
        identical: Byte-identical to the query.
    """

    file: VideoInfo
    similarity: float
    kind: CopyKind
    query_range: tuple[float, float]
    match_range: tuple[float, float]
    evidence: MatchEvidence
    identical: bool = False

    @property
    def path(self) -> Path:
        """The library file's path."""
        return self.file.path


@dataclass(frozen=True)
class QueryCopies:
    """The copies of one query, best first.

    Attributes:
        query: The query file (with its probe).
        copies: Ranked matches (at most ``top``).
        candidates: Library videos refined.
        seconds: Time spent searching and refining (the query's own analysis excluded).
    """

    query: VideoInfo
    copies: tuple[FoundCopy, ...]
    candidates: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class FindResult:
    """What :func:`find_copies` found.

    Attributes:
        status: OK, or why there is nothing to show.
        queries: Per analysed query file, its copies.
        problems: Query files that could not be analysed (and other per-file notes).
        library_videos: Analysed videos searched.
        library_source: Where they were searched, in words (the library index and its kind,
            or the feature cache).
        roots: The library folders searched (empty: every analysed file).
        seconds: Where the time went (discover, library, features, search).
        notices: Messages about the cache.
    """

    status: FindStatus
    queries: tuple[QueryCopies, ...] = ()
    problems: tuple[Problem, ...] = ()
    library_videos: int = 0
    library_source: str = ""
    roots: tuple[Path, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """A sentence for the status (empty when OK)."""
        if self.status is FindStatus.NOT_SCANNED:
            return NOT_SCANNED_MESSAGE
        if self.status is FindStatus.NO_QUERY:
            return "None of the query files could be analysed."
        if self.status is FindStatus.CANCELLED:
            return "Cancelled."
        return ""
