"""Human-readable values for the window (sizes, durations, bitrates, dates)."""

from __future__ import annotations

import datetime as _dt


def size(n: float) -> str:
    """``1.4 GB``, ``820 MB``, ``12 KB``, ``512 B``."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def duration(seconds: float | None) -> str:
    """``1:02:03``, ``4:05``, or an empty string when unknown."""
    if seconds is None or seconds <= 0:
        return ""
    s = int(round(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def bitrate(bps: int | None) -> str:
    """``4.2 Mb/s``, ``800 kb/s``."""
    if not bps:
        return ""
    if bps >= 1_000_000:
        return f"{bps / 1e6:.1f} Mb/s"
    return f"{bps / 1e3:.0f} kb/s"


def fps(value: float | None) -> str:
    """``29.97``, ``25``."""
    if not value:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def resolution(width: int, height: int) -> str:
    """``1920×1080``."""
    return f"{width}×{height}" if width and height else ""


def mtime(ns: int) -> str:
    """Local modification date, ``2024-05-01 14:03``."""
    try:
        return _dt.datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def percent(x: float) -> str:
    """``87%``."""
    return f"{x * 100:.0f}%"


def clock(seconds: float | None) -> str:
    """Elapsed / remaining time: ``0:42``, ``1:03:00``; ``…`` when unknown."""
    if seconds is None:
        return "…"
    return duration(max(seconds, 0.5)) or "0:00"


def moment(seconds: float, fine: bool = False) -> str:
    """A position in a video: ``1:05``, or ``1:05.4`` when ``fine`` (short clips)."""
    if not fine:
        return clock(seconds)
    s = max(0.0, seconds)
    return f"{int(s // 60)}:{s % 60:04.1f}"
