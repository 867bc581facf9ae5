"""Persistent settings: the only module that touches QSettings.

Everything the user chooses (folders, scan options, rules, window layout) lives here and is
turned into the engine's :class:`~dedup_gui.core.options.ScanOptions` by :meth:`scan_options`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from dedup_gui.core.analyse.models import DEFAULT_MODEL, MODELS
from dedup_gui.core.options import (
    DiscoveryOptions,
    MatchOptions,
    ModelOptions,
    SamplingOptions,
    ScanOptions,
)
from dedup_gui.core.review.selection import KeepRule

ORGANIZATION = "dedup-gui"
APPLICATION = "dedup-gui"
_DEF = ScanOptions()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder to scan; files in a reference folder are never marked."""

    path: Path
    reference: bool = False


class _Setting(Generic[T]):
    """A typed QSettings key exposed as an attribute of :class:`Settings`."""

    def __init__(self, key: str, default: T) -> None:
        self.key = key
        self.default = default

    def __get__(self, obj: Settings | None, owner: type) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        return obj._get(self.key, self.default)

    def __set__(self, obj: Settings, value: T) -> None:
        obj._q.setValue(self.key, value)


class Settings:
    """Typed access to the application's QSettings.

    Args:
        qsettings: The store; the user's native settings by default. Tests pass an INI file.
    """

    # scan folders and discovery
    recursive = _Setting("scan/recursive", True)
    exclude = _Setting("scan/exclude", "")  # patterns separated by ';' or new lines
    min_size_mb = _Setting("scan/min_size_mb", 0.0)
    min_duration = _Setting("scan/min_duration", 0.0)
    # matching and analysis (preferences dialog)
    threshold = _Setting("match/threshold", _DEF.match.threshold)
    duration_tolerance = _Setting("match/duration_tolerance", _DEF.match.duration_tolerance)
    partial = _Setting("match/partial", _DEF.match.partial)
    flip = _Setting("match/flip", _DEF.match.flip)
    model = _Setting("analysis/model", DEFAULT_MODEL)
    fps = _Setting("analysis/fps", _DEF.sampling.fps)
    use_cache = _Setting("analysis/use_cache", _DEF.use_cache)
    # review
    keep_rule = _Setting("review/keep_rule", str(KeepRule.QUALITY))
    preferred_folder = _Setting("review/preferred_folder", "")
    show_thumbnails = _Setting("review/show_thumbnails", True)
    theme = _Setting("view/theme", "system")  # system, light, dark
    last_dir = _Setting("view/last_dir", "")

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    @classmethod
    def at(cls, path: Path) -> Settings:
        """Settings stored in an INI file at ``path``."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def file_name(self) -> str:
        """Where the settings are stored."""
        return self._q.fileName()

    def _get(self, key: str, default: Any) -> Any:
        raw = self._q.value(key, default)
        if raw is None:
            return default
        try:
            if isinstance(default, bool):
                return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
            if isinstance(default, float):
                return float(raw)
            if isinstance(default, int):
                return int(raw)
            return str(raw)
        except (TypeError, ValueError):
            return default

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._q.sync()

    # ---------------------------------------------------------------- structured values
    @property
    def folders(self) -> list[Folder]:
        """The folders to scan, in the user's order."""
        try:
            raw = json.loads(str(self._q.value("scan/folders", "[]")))
            return [Folder(Path(f["path"]), bool(f.get("reference"))) for f in raw]
        except (ValueError, TypeError, KeyError):
            return []

    @folders.setter
    def folders(self, folders: list[Folder]) -> None:
        self._q.setValue(
            "scan/folders",
            json.dumps([{"path": str(f.path), "reference": f.reference} for f in folders]),
        )

    def exclude_patterns(self) -> tuple[str, ...]:
        """Exclude globs, one per ``;`` or line."""
        parts = str(self.exclude).replace("\n", ";").split(";")
        return tuple(p.strip() for p in parts if p.strip())

    def keep_rule_value(self) -> KeepRule:
        """The keeper rule (the default when the stored one is unknown)."""
        try:
            return KeepRule(self.keep_rule)
        except ValueError:
            return KeepRule.QUALITY

    def model_name(self) -> str:
        """The chosen model, the default when the stored one is unknown."""
        return self.model if self.model in MODELS else DEFAULT_MODEL

    def geometry(self, name: str) -> QByteArray | None:
        """A saved window geometry/state blob."""
        v = self._q.value(f"window/{name}")
        return v if isinstance(v, QByteArray) else None

    def set_geometry(self, name: str, blob: QByteArray) -> None:
        """Remember a window geometry/state blob."""
        self._q.setValue(f"window/{name}", blob)

    def scan_options(self) -> ScanOptions:
        """The engine options for the current settings and folders."""
        refs = tuple(f.path for f in self.folders if f.reference)
        return ScanOptions(
            discovery=DiscoveryOptions(
                recursive=self.recursive,
                exclude=self.exclude_patterns(),
                min_size=int(max(0.0, self.min_size_mb) * 1024 * 1024),
            ),
            sampling=SamplingOptions(fps=max(0.05, self.fps)),
            model=ModelOptions(name=self.model_name()),
            match=MatchOptions(
                threshold=min(1.0, max(0.0, self.threshold)),
                duration_tolerance=min(1.0, max(0.0, self.duration_tolerance)),
                partial=self.partial,
                flip=self.flip,
            ),
            reference_roots=refs,
            use_cache=self.use_cache,
            min_duration=max(0.0, self.min_duration),
        )
