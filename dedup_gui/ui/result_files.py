"""Saving, exporting and reopening result sets: ask for the file, write atomically, report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dedup_gui.core.options import ScanOptions
from dedup_gui.core.review import export
from dedup_gui.core.review.ignores import drop_members
from dedup_gui.core.types import ScanResult
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.settings import Settings

RESULT_FILTER = "dedup-gui results (*.json);;All files (*)"
Status = Callable[[str, int], None]


class ResultFiles:
    """The window's result files.

    Args:
        prompt: Returns the prompter that asks for files and reports errors.
        settings: Remembers the last folder used.
        status: Shows a one-line message in the status bar.
    """

    def __init__(self, prompt: Callable[[], Prompter], settings: Settings, status: Status) -> None:
        self._prompt = prompt
        self._settings = settings
        self._status = status

    def start_dir(self, name: str = "") -> str:
        """The last folder used (home at first), joined with ``name`` when given."""
        folder = self._settings.last_dir or str(Path.home())
        return str(Path(folder) / name) if name else folder

    def save_json(self, result: ScanResult, options: dict[str, Any]) -> None:
        """Ask where, then save ``result`` as JSON (reopen with :meth:`read`)."""
        path = self._prompt().save_file(
            "Save results", self.start_dir("results.json"), RESULT_FILTER
        )
        if path is not None:
            self._write(path if path.suffix else path.with_suffix(".json"),
                        export.to_json(result, options))  # fmt: skip

    def save_csv(self, result: ScanResult) -> None:
        """Ask where, then export one row per file of every group."""
        path = self._prompt().save_file(
            "Export as CSV", self.start_dir("duplicates.csv"), "CSV (*.csv);;All files (*)"
        )
        if path is not None:
            self._write(path if path.suffix else path.with_suffix(".csv"), export.to_csv(result))

    def _write(self, path: Path, text: str) -> None:
        try:
            export.write_atomic(path, text)
        except OSError as exc:
            self._prompt().error("Cannot write the file", f"{path}: {exc.strerror or exc}")
            return
        self._settings.last_dir = str(path.parent)
        self._status(f"Wrote {path}", 8000)

    def ask_open(self) -> Path | None:
        """Ask for a saved result set."""
        return self._prompt().open_file("Open results", self.start_dir(), RESULT_FILTER)

    def read(self, path: Path) -> tuple[ScanResult, int] | None:
        """A saved result set with files that vanished since left out, and how many they were.

        None (after telling the user) when the file cannot be read.
        """
        try:
            result = export.load_json(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._prompt().error("Cannot open the results", f"{path}: {exc}")
            return None
        groups, gone = [], 0
        for g in result.groups:
            missing = {i for i, m in enumerate(g.members) if not m.file.path.exists()}
            gone += len(missing)
            kept = drop_members(g, missing)
            if kept is not None:
                groups.append(kept)
        self._settings.last_dir = str(path.parent)
        return dataclasses.replace(result, groups=tuple(groups)), gone


def options_dict(options: ScanOptions) -> dict[str, Any]:
    """The options saved with a result set."""
    return {
        "threshold": options.match.threshold,
        "duration_tolerance": options.match.duration_tolerance,
        "partial": options.match.partial,
        "model": options.model.name,
        "sampling": asdict(options.sampling),
    }
