"""The persistent library index: frame vectors of every analysed video, kept between scans.

In: per video, its frame vectors in a *fixed* space (the recipe's prior whitening only) under
a stable int64 video id. Out: kNN and range searches (candidate pairs, frame commonness), and
a ledger of what is indexed, the candidate pairs and close frames found so far, so a rescan
searches only new and changed videos (:mod:`.library`).

Backends behind one interface (:class:`.base.VectorIndex`): :mod:`.local` (faiss, a file next
to the feature cache, or in memory for ``--no-cache``) and :mod:`.milvus` (pymilvus; a Milvus
server or a Milvus Lite file).
"""
