"""What persists between scans: the SQLite feature cache (and the library index)."""
