"""Dispatch: a sub-command runs the command line; no arguments open the window.

Heavy modules (Qt, torch) are imported only by the path that needs them.
"""

from __future__ import annotations

import sys

CLI_COMMANDS = {"scan", "cache", "-h", "--help", "--version"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI for known sub-commands, else the GUI."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in CLI_COMMANDS:
        from dedup_gui import cli

        return cli.main(args)
    from dedup_gui.ui.app import run

    return run(args)
