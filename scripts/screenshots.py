"""Screenshots of the real app under Xvfb, for docs/GUI.md and the README.

    .venv/bin/python scripts/screenshots.py [--result scan.json] [--library DIR] [--out DIR]
    .venv/bin/python scripts/screenshots.py --only find [--find-query CLIP] [--cache-dir DIR]

Without ``--result`` the library is scanned first with the command line (``main.py scan``).
The default library is /tmp/ndv-dev/library when it exists (real clips), else a generated
library of planted duplicates (tests/library.py). Without a display the script re-runs itself
under ``xvfb-run``. Settings, the ignore list and the thumbnail cache go to a temporary folder.

``find-copies.png`` drops an excerpt (default: one of /tmp/ndv-partial/excerpts) on the Find
copies tab, with the library scanned into the user cache (or ``--cache-dir``, a feature cache
folder filled by ``main.py scan LIBRARY --cache-dir DIR``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL_LIBRARY = Path("/tmp/ndv-dev/library")
FIND_QUERY = Path("/tmp/ndv-partial/excerpts/partial046cad4a.mp4")


def ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("SCREENSHOTS_UNDER_XVFB"):
        return
    if not shutil.which("xvfb-run"):
        sys.exit("no display and no xvfb-run: install xvfb (apt-get install xvfb)")
    env = dict(os.environ, SCREENSHOTS_UNDER_XVFB="1")
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1680x1050x24 -dpi 96", sys.executable, *sys.argv]
    sys.exit(subprocess.call(cmd, env=env))


def scan_library(library: Path, work: Path) -> Path:
    out = work / "result.json"
    print(f"scanning {library} (cached features make this quick the second time)…")
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scan", str(library), "--json", str(out), "-q"],
        check=True,
    )
    return out


def wait(app, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.02)
    return until is None


def grab(window, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    geo = window.frameGeometry()
    pix = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    if pix.isNull():
        pix = window.grab()
    pix.save(str(path))
    print(f"wrote {path} ({pix.width()}x{pix.height()})")


def strips_loaded(window, view=None) -> bool:
    """Every visible row's frame strip is in memory."""
    view = view or window.results
    tree = view.tree
    delegate = view.delegate
    idx = tree.indexAt(tree.viewport().rect().topLeft())
    seen = 0
    while idx.isValid() and tree.visualRect(idx).top() < tree.viewport().height():
        key = delegate.key(idx.siblingAtColumn(1))
        if key is not None:
            seen += 1
            if window.loader.get(key) is None and window.loader.error(key) is None:
                tree.viewport().update()
                return False
        idx = tree.indexBelow(idx)
    return seen > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--result", type=Path, help="a saved scan result (JSON)")
    parser.add_argument("--library", type=Path, help="folder to scan when no result is given")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=["find"], help="take only this screenshot")
    parser.add_argument("--find-query", type=Path, default=FIND_QUERY, help="clip to search for")
    parser.add_argument("--cache-dir", type=Path, help="feature cache of the scanned library")
    args = parser.parse_args()
    ensure_display()

    work = Path(tempfile.mkdtemp(prefix="dedup-shots-"))
    if args.only == "find":
        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        app.setApplicationDisplayName("dedup-gui")
        library = args.library or REAL_LIBRARY
        if args.cache_dir is None:
            scan_library(library, work)
        args.out.mkdir(parents=True, exist_ok=True)
        shoot_find(app, work, args.out, library, args.find_query, args.cache_dir)
        shutil.rmtree(work, ignore_errors=True)
        return 0
    library = args.library
    if library is None:
        if REAL_LIBRARY.is_dir():
            library = REAL_LIBRARY
        else:
            from tests.library import make_library

            library = make_library(work / "library").root
    result_path = args.result or scan_library(library, work)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from dedup_gui.core.review.ignores import IgnoreList
    from dedup_gui.core.review.thumbnails import ThumbnailCache
    from dedup_gui.ui import theme
    from dedup_gui.ui.compare import CompareDialog
    from dedup_gui.ui.main_window import MainWindow
    from dedup_gui.ui.settings import Settings

    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("dedup-gui")
    for name, mode in (("main-window", "dark"), ("main-window-light", "light")):
        theme.apply_theme(app, mode)
        settings = Settings.at(work / f"{name}.ini")
        window = MainWindow(settings, IgnoreList(), thumbnail_cache=ThumbnailCache(work / "thumbs"))
        window.folders.add_folders([library])
        window.resize(1600, 960)
        window.move(0, 0)
        window.show()
        window.load_results(result_path)
        window.statusBar().clearMessage()
        wait(app, 0.5)
        model = window.model
        # a group with three or more files, its second file selected, marks set by the rule
        rows = [r for r, g in enumerate(model.groups()) if len(g.members) >= 3] or [0]
        group = model.groups()[rows[0]]
        window.mark_all_but_keepers()
        window.statusBar().clearMessage()
        window.results.select_path(group.members[1].file.path)
        window.results.tree.scrollToTop()
        wait(
            app,
            60,
            lambda w=window: (
                strips_loaded(w)
                and bool(w.preview.frames.pixmaps)
                and all(p is not None for p in w.preview.frames.pixmaps)
            ),
        )
        wait(app, 0.5)
        grab(window, args.out / f"{name}.png")
        if mode == "dark":
            # a mirrored copy (or else the least similar one) makes the most telling comparison
            pairs = [
                (g, m)
                for g in model.groups()
                for m in g.members
                if m is not g.reference_member and m.evidence is not None
            ]
            flipped = [
                p
                for p in pairs
                if p[1].evidence.flipped
                and p[1].similarity < 0.95
                and min(p[1].file.probe.duration, p[0].reference_member.file.probe.duration) >= 8
            ]
            group, member = min(flipped or pairs, key=lambda p: p[1].similarity)
            window.results.tree.clearSelection()
            window.results.select_path(member.file.path)
            window.compare_selected()
            dialog = window.findChild(CompareDialog)
            assert dialog is not None
            dialog.move(40, 30)
            wait(app, 180, lambda d=dialog: d.details is not None or not d.task.running)
            wait(
                app,
                60,
                lambda d=dialog: (
                    bool(d.aligned.a)
                    and all(
                        p is not None
                        for p in [*d.aligned.a, *d.aligned.b, *d.picked.a, *d.picked.b]
                    )
                ),
            )
            wait(app, 0.5)
            grab(dialog, args.out / "compare.png")
            dialog.close()
        window.close()
    shoot_scanning(app, work, args.out)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def shoot_find(app, work: Path, out: Path, library: Path, query: Path, cache: Path | None) -> None:
    """The Find copies tab after a clip was dropped: its source and copies, ranked."""
    from dedup_gui.core.review.ignores import IgnoreList
    from dedup_gui.core.review.thumbnails import ThumbnailCache
    from dedup_gui.ui import theme
    from dedup_gui.ui.main_window import MainWindow
    from dedup_gui.ui.settings import Settings

    if cache is not None:  # the window's user cache folder is that feature cache
        (work / "xdg").mkdir(exist_ok=True)
        os.symlink(cache.resolve(), work / "xdg" / "dedup-gui")
        os.environ["XDG_CACHE_HOME"] = str(work / "xdg")
    theme.apply_theme(app, "dark")
    settings = Settings.at(work / "find.ini")
    window = MainWindow(settings, IgnoreList(), thumbnail_cache=ThumbnailCache(work / "thumbs"))
    window.folders.add_folders([library])
    window.resize(1600, 960)
    window.move(0, 0)
    window.show()
    window.find.find([query])
    wait(app, 300, lambda: window.find.result is not None and not window.find.running)
    window.statusBar().clearMessage()
    view = window.find.results
    wait(
        app,
        60,
        lambda: (
            strips_loaded(window, view)
            and bool(window.preview.frames.pixmaps)
            and all(p is not None for p in window.preview.frames.pixmaps)
        ),
    )
    wait(app, 0.5)
    grab(window, out / "find-copies.png")
    window.close()


def shoot_scanning(app, work: Path, out: Path) -> None:
    """The window while it scans a generated library (progress bar, stage, file, ETA)."""
    from dedup_gui.core.review.ignores import IgnoreList
    from dedup_gui.core.review.thumbnails import ThumbnailCache
    from dedup_gui.ui import theme
    from dedup_gui.ui.main_window import MainWindow
    from dedup_gui.ui.settings import Settings
    from tests.library import make_library

    theme.apply_theme(app, "dark")
    library = make_library(work / "generated" / "Holiday videos").root
    settings = Settings.at(work / "scan.ini")
    settings.use_cache = False
    window = MainWindow(settings, IgnoreList(), thumbnail_cache=ThumbnailCache(work / "thumbs"))
    window.folders.add_folders([library])
    window.resize(1600, 960)
    window.move(0, 0)
    window.show()
    events = []
    window.controller.progress.connect(events.append)
    window.start_scan()
    wait(app, 180, lambda: any(e.stage == "features" and e.done >= 4 and e.eta for e in events))
    wait(app, 0.3)
    grab(window, out / "scanning.png")
    window.close()


if __name__ == "__main__":
    sys.exit(main())
