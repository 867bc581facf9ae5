"""Entry point: ``python main.py`` opens the window; ``python main.py scan DIR`` is headless."""

import multiprocessing
import sys

from dedup_gui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
