"""The engine: no Qt here, ever. Folders and options in, a ScanResult out.

Stages, one sub-package each, in the order a scan runs them::

    scan/     folders -> VideoFile | Problem -> decoded, model-ready frames (worker processes)
    analyse/  frames -> VideoFeatures (pretrained CNN region vectors), through the cache
    match/    VideoFeatures -> candidate pairs -> verified PairMatch -> DuplicateGroup
    library/  what persists between scans: the feature cache (and the library index)
    review/   DuplicateGroup -> selection rules -> TrashPlan -> per-file actions, exports

``types.py`` holds the values at every arrow, ``options.py`` the knobs, ``progress.py`` the
progress and cancellation parameters; ``pipeline.py`` composes the stages and does no work.
"""
