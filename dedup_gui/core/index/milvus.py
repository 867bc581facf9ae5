"""The Milvus backend: a Milvus server (``milvus://host:19530``) or a Milvus Lite file.

One collection per feature key, fields ``pk`` (the frame id, primary key), ``video`` (the
video id, filtered on for removal) and ``vector`` (float32, inner-product metric; vectors
are L2-normalised, so it is the cosine). A server builds its own index (``AUTOINDEX``); Milvus
Lite supports ``FLAT`` only, which is exact. Range search is a search with a ``radius``, capped
at :data:`RANGE_LIMIT` results per query.

Needs the optional extra ``pip install 'dedup-gui[milvus]'`` (pymilvus; milvus-lite for
file URIs).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dedup_gui.core.errors import IndexUnavailable
from dedup_gui.core.index.base import frame_ids

log = logging.getLogger(__name__)

RANGE_LIMIT = 16_384  # Milvus's largest top-k
INSERT_BATCH = 2048
SEARCH_BATCH = 256


class MilvusIndex:
    """Frame vectors in a Milvus collection (see the module docstring).

    Args:
        uri: ``http://host:port`` or a local ``.db`` file (Milvus Lite).
        collection: The collection name.
        dim: Vector dimension.

    Raises:
        IndexUnavailable: pymilvus is missing or the server cannot be reached.
    """

    backend = "milvus"

    def __init__(self, uri: str, collection: str, dim: int) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise IndexUnavailable(
                "the Milvus index needs pymilvus: pip install 'dedup-gui[milvus]'"
            ) from exc
        self.location = uri
        self.collection = collection
        self.dim = dim
        self._lite = not uri.startswith(("http://", "https://", "tcp://"))
        try:
            self._client: Any = MilvusClient(uri)
        except Exception as exc:  # connection errors come in many types
            raise IndexUnavailable(f"cannot open the Milvus index at {uri}: {exc}") from exc
        if self._client.has_collection(collection):
            desc = self._client.describe_collection(collection)
            fields = desc.get("fields", [])
            dims = [f.get("params", {}).get("dim") for f in fields if f["name"] == "vector"]
            if dims and int(dims[0]) != dim:
                log.info("collection %s: dim %s, expected %d: dropped", collection, dims, dim)
                self._client.drop_collection(collection)
        if not self._client.has_collection(collection):
            self._create()

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("video", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self._client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type="FLAT" if self._lite else "AUTOINDEX", metric_type="IP"
        )
        self._client.create_collection(self.collection, schema=schema, index_params=params)

    def add(self, video_ids: list[int], vectors: list[np.ndarray]) -> None:
        """Insert each video's frame vectors."""
        rows: list[dict[str, object]] = []
        for v, x in zip(video_ids, vectors, strict=True):
            for pk, vec in zip(frame_ids(v, len(x)).tolist(), x.astype(np.float32), strict=True):
                rows.append({"pk": pk, "video": int(v), "vector": vec.tolist()})
        for lo in range(0, len(rows), INSERT_BATCH):
            self._client.insert(self.collection, rows[lo : lo + INSERT_BATCH])

    def remove(self, video_ids: list[int]) -> None:
        """Delete every frame of these videos."""
        for lo in range(0, len(video_ids), 1000):
            ids = ", ".join(str(int(v)) for v in video_ids[lo : lo + 1000])
            self._client.delete(self.collection, filter=f"video in [{ids}]")

    def _search(
        self, queries: np.ndarray, limit: int, params: dict[str, Any], where: str = ""
    ) -> list[Any]:
        out: list[Any] = []
        for lo in range(0, len(queries), SEARCH_BATCH):
            out.extend(
                self._client.search(
                    self.collection,
                    data=queries[lo : lo + SEARCH_BATCH].astype(np.float32).tolist(),
                    limit=limit,
                    filter=where,
                    search_params={"metric_type": "IP", "params": params},
                )
            )
        return out

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest frames of each query."""
        sims = np.zeros((len(queries), k), np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        if len(queries) == 0 or k == 0:
            return sims, ids
        for i, hits in enumerate(self._search(queries, min(k, RANGE_LIMIT), {})):
            for j, h in enumerate(hits):
                sims[i, j] = h["distance"]
                ids[i, j] = h["pk"]
        return sims, ids

    def range_search(
        self, queries: np.ndarray, threshold: float, max_video: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every frame more than ``threshold`` similar to each query (capped per query).

        ``max_video`` becomes a scalar filter on the collection's video field.
        """
        where = "" if max_video is None else f"video <= {int(max_video)}"
        lims = np.zeros(len(queries) + 1, np.int64)
        found: list[int] = []
        sims: list[float] = []
        if len(queries):
            params = {"radius": float(threshold), "range_filter": 1.01}
            for i, hits in enumerate(self._search(queries, RANGE_LIMIT, params, where)):
                if len(hits) >= RANGE_LIMIT:
                    log.warning("range search capped at %d frames", RANGE_LIMIT)
                found.extend(int(h["pk"]) for h in hits)
                sims.extend(float(h["distance"]) for h in hits)
                lims[i + 1] = len(found)
        return lims, np.array(sims, np.float32), np.array(found, np.int64)

    def count(self) -> int:
        """Frames in the collection."""
        res = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"]) if res else 0

    def size_bytes(self) -> int:
        """An estimate: frames times the float32 vector and its two ids."""
        return self.count() * (4 * self.dim + 16)

    def describe(self) -> str:
        """The kind of index, in words."""
        kind = "Milvus Lite, exact (FLAT)" if self._lite else "Milvus server (AUTOINDEX)"
        return f"{kind}, collection {self.collection}"

    def expect(self, frames: int) -> None:
        """The server builds its own index: nothing to size here."""

    def persist(self) -> None:
        """Make inserts and deletes visible to the next search."""
        self._client.flush(self.collection)

    def drop(self) -> None:
        """Delete the collection and start an empty one."""
        if self._client.has_collection(self.collection):
            self._client.drop_collection(self.collection)
        self._create()

    def close(self) -> None:
        """Close the connection."""
        try:
            self._client.close()
        except Exception:  # already closed, or the server went away
            log.debug("closing the Milvus client failed", exc_info=True)
