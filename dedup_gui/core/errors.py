"""Errors that stop a whole scan (per-file failures are Problem values, never exceptions)."""


class ScanError(RuntimeError):
    """The scan cannot run at all; the message says why and how to fix it."""


class DecoderUnavailable(ScanError):
    """The decoder processes cannot start (a broken installation, not a bad file)."""


class IndexUnavailable(ScanError):
    """The library index backend cannot be used (a missing package, an unreachable server)."""
