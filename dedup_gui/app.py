"""Dispatch: a sub-command runs the command line; no arguments open the window.

Heavy modules (Qt, torch) are imported only by the path that needs them.
"""

from __future__ import annotations

import os
import sys

CLI_COMMANDS = {"scan", "find", "cache", "library", "trash", "history", "-h", "--help", "--version"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI for known sub-commands, else the GUI."""
    args = sys.argv[1:] if argv is None else argv
    # a sub-command, or a word that is neither a command nor a folder (a typo: say so
    # instead of opening the window)
    if args and (
        args[0] in CLI_COMMANDS or not (args[0].startswith("-") or os.path.exists(args[0]))
    ):
        from dedup_gui import cli

        return cli.main(args)
    from dedup_gui.ui.app import run

    return run(args)
