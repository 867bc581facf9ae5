"""The engine runs with Qt absent (a headless server)."""

import subprocess
import sys


def test_core_and_cli_import_without_qt():
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['shiboken6'] = None\n"
        "import dedup_gui.cli, dedup_gui.core.pipeline, dedup_gui.core.match.inspect\n"
        "import dedup_gui.core.review.selection, dedup_gui.core.review.actions\n"
        "import dedup_gui.core.review.export\n"
        "assert 'torch' not in sys.modules, 'torch must load lazily'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
