"""dedup-gui: find duplicate and near-duplicate videos, review them, safely trash the extras."""

__version__ = "0.1.0"
