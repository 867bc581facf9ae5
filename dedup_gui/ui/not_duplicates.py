"""Not-a-duplicate choices: hide files and pairs now and in later scans, or forget them all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dedup_gui.core.review.ignores import IgnoreList
from dedup_gui.core.types import GroupMember
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.group_model import GroupModel

Status = Callable[[str, int], None]


class NotDuplicates:
    """Applies the user's "not a duplicate" choices to the ignore list and the shown groups.

    Args:
        model: The groups shown (updated at once).
        ignores: The list that persists the choices.
        prompt: Returns the prompter (errors, the confirmation before forgetting).
        status: Shows a one-line message in the status bar.
    """

    def __init__(
        self,
        model: GroupModel,
        ignores: IgnoreList,
        prompt: Callable[[], Prompter],
        status: Status,
    ) -> None:
        self._model = model
        self.ignores = ignores
        self._prompt = prompt
        self._status = status

    def hide_files(self, members: Sequence[GroupMember]) -> None:
        """Hide ``members`` from every group, now and in later scans."""
        if not members:
            return
        for m in members:
            self.ignores.add_file(m.file.path)
        self._save()
        self.reapply()
        self._status(
            f"Hid {len(members)} files (Edit → Forget “not a duplicate” choices to undo)", 8000
        )

    def hide_from_reference(self, members: Sequence[GroupMember]) -> None:
        """``members`` are not duplicates of their group's reference (two files: of each other)."""
        pairs = []
        for m in members:
            idx = self._model.index_of_path(m.file.path)
            g = self._model.group_of(idx) if idx.isValid() else None
            if g is None or m is g.reference_member:
                continue
            pairs.append((g.reference_member.file.path, m.file.path))
        if len(members) == 2 and not pairs:
            a, b = members
            pairs = [(a.file.path, b.file.path)]
        self.hide_pairs(pairs)

    def hide_pairs(self, pairs: list[tuple[Path, Path]]) -> None:
        """Remember that each pair is not a duplicate and update the groups."""
        if not pairs:
            return
        for a, b in pairs:
            self.ignores.add_pair(a, b)
        self._save()
        self.reapply()
        self._status(f"Marked {len(pairs)} pairs as not duplicates", 8000)

    def _save(self) -> None:
        try:
            self.ignores.save()
        except OSError as exc:
            self._prompt().error("Cannot remember the choice", f"{self.ignores.path}: {exc}")

    def reapply(self) -> None:
        """Drop hidden files and pairs from the groups shown."""
        for g in self._model.groups():
            new = self.ignores.apply_one(g)
            if new is not g:
                self._model.replace_group(g.id, new)

    def forget(self) -> bool:
        """Forget every choice after a confirmation; True when they were forgotten."""
        if not len(self.ignores):
            self._status("Nothing is hidden", 5000)
            return False
        if not self._prompt().confirm(
            "Forget choices",
            f"Show the {len(self.ignores.files)} hidden files and "
            f"{len(self.ignores.pairs)} hidden pairs again?",
            accept="Forget",
        ):
            return False
        self.ignores.clear()
        self._save()
        return True
