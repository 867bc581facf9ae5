"""Matching: VideoFeatures in, duplicate groups out.

similarity (whitening, region chamfer, temporal alignment, motion check) -> candidates (kNN
over frame vectors) -> cluster (duration gate + DBSCAN) -> refine (one pair -> PairMatch) ->
rotation (turned copies on demand) -> grouping (non-chaining DuplicateGroups); matching is the
stage that runs them, inspect the detail of one pair for the compare view.
"""
