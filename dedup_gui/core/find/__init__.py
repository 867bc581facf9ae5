"""Find copies: where else is this video (or clip) in the library?

In: query files (or folders of clips) and the analysed library (today: the feature cache).
Out: per query, ranked :class:`~dedup_gui.core.find.copies.FoundCopy` values (path, similarity,
kind, matched range on both sides), or a status saying the library was never scanned.

``library.py``: :class:`LibrarySearch`, the swappable library (faiss over cached frame vectors).
``copies.py``: :func:`find_copies`, analysis of the queries, library, one search per query.
``search.py``: one query: kNN candidates, refinement, zoomed, turned and identical copies.
``results.py``: the values returned (FindResult, QueryCopies, FoundCopy, CopyKind, FindStatus).
"""
