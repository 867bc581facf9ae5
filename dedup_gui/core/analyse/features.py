"""Features stage: probe, decode and embed each file, reading and filling the cache.

Decoding runs in isolated worker processes (:mod:`dedup_gui.core.scan.workers`); embedding
runs here, in the scanning thread, as the workers deliver videos (the videos already waiting,
up to :data:`GROUP_FRAMES` frames, in one call). Every
finished video is written to the cache in batches, so an interrupted scan resumes where it
stopped.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse.embed import Embedder, embed_many
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import Cancelled, CancelToken, Progress
from dedup_gui.core.scan.workers import DecodedVideo, DecodePool
from dedup_gui.core.types import Probe, Problem, Stage, VideoFeatures, VideoFile

log = logging.getLogger(__name__)


def feature_key(options: ScanOptions, embedder: Embedder) -> str:
    """Cache key of the features for these options."""
    mirror = int(options.match.flip)
    return f"{embedder.key}|mirror={mirror}|{options.sampling.key}|dec={options.decoder}"


def _still_same(file: VideoFile) -> str | None:
    """None when the file is unchanged since discovery, else the reason it is not."""
    try:
        st = os.stat(file.path)
    except FileNotFoundError:
        return "file vanished during the scan"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if st.st_size != file.size or st.st_mtime_ns != file.mtime_ns:
        return "file changed during the scan; scan again to include it"
    return None


def _features(
    decoded: list[DecodedVideo], embedder: Embedder, mirror: bool, token: CancelToken
) -> list[VideoFeatures]:
    """Embed the frames of several videos in one call (:func:`.embed.embed_many`)."""
    parts: list[np.ndarray] = []
    for d in decoded:
        parts.append(d.frames)
        if d.full_frames is not None:  # a picture inside a canvas: the whole frame too
            parts.append(d.full_frames)
    embedded = iter(embed_many(embedder, parts, mirror=mirror, token=token))
    out: list[VideoFeatures] = []
    for d in decoded:
        regions, vectors = next(embedded)
        full = next(embedded)[0] if d.full_frames is not None else None
        out.append(
            VideoFeatures(
                timestamps=d.timestamps,
                vectors=vectors,
                regions=regions,
                thumbs=d.thumbs,
                informative=d.informative,
                crop=d.crop,
                full_regions=full,
                full_thumbs=d.full_thumbs if full is not None else None,
                full_crop=d.full_crop if full is not None else None,
            )
        )
    return out


# Frames embedded in one call at most when several decoded videos are waiting.
GROUP_FRAMES = 48


def _frames(result: DecodedVideo | Problem) -> int:
    """Forward passes a decoded video needs (0 for a problem)."""
    if isinstance(result, Problem):
        return 0
    return len(result.frames) + (0 if result.full_frames is None else len(result.full_frames))


class _Prefetch:
    """Runs a decoder pool's results ahead in a thread, so decoding goes on while embedding.

    The scanning thread embeds one video while the decoder processes already work on the next
    ones (at most ``depth`` results wait). Leaving the context (done, error or cancel) stops
    the decoders through ``inner`` and joins the thread; errors raised by the pool (a broken
    installation) reach the scanning thread.
    """

    _DONE = object()

    def __init__(
        self,
        results: Iterator[tuple[VideoFile, DecodedVideo | Problem]],
        depth: int,
        token: CancelToken,
        inner: CancelToken,
    ) -> None:
        self._results = results
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._token = token
        self._inner = inner
        self._thread = threading.Thread(target=self._run, name="dedup-prefetch", daemon=True)

    def _run(self) -> None:
        item: object = self._DONE
        try:
            for got in self._results:
                while not self._inner.cancelled:
                    try:
                        self._queue.put(got, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._inner.cancelled:
                    return
        except Cancelled:
            return
        except BaseException as exc:  # carried to the scanning thread
            item = exc
        while not self._inner.cancelled:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __enter__(self) -> _Prefetch:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[tuple[VideoFile, DecodedVideo | Problem]]:
        return self._iterate()

    def ready(self) -> bool:
        """Whether a result is waiting (taking it would not block)."""
        return not self._queue.empty()

    def _iterate(self) -> Iterator[tuple[VideoFile, DecodedVideo | Problem]]:
        while True:
            self._token.raise_if_cancelled()
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def __exit__(self, *exc: object) -> None:
        self._inner.cancel()
        self._thread.join()


# Seconds a cancelled scan waits for a model that is being loaded (not built) to be ready.
LOAD_WAIT = 30.0


def _load_model(embedder: Embedder, size: int, progress: Progress, token: CancelToken) -> None:
    """Make the model ready in a helper thread, so that a cancel is honoured meanwhile.

    Building the runtime model on first use takes a minute or more in native code that cannot
    be interrupted; a cancel returns at once and the build finishes in the background (it is
    saved atomically, so the next scan finds it whole or builds it again).
    """
    done = threading.Event()
    building = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            embedder.load(size, lambda _: building.set())
        except BaseException as exc:  # carried to the scanning thread
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="dedup-model-load", daemon=True).start()
    shown = False
    while not done.wait(0.1):
        if token.cancelled and not building.is_set():
            # loading a built model takes a second or two: let it finish, so that no native
            # OpenVINO thread is still starting when the process exits (that aborted the CLI
            # after Ctrl-C: "terminate called without an active exception")
            done.wait(LOAD_WAIT)
        token.raise_if_cancelled()
        if building.is_set() and not shown:
            progress.stage("model")  # from the scanning thread, as every progress event
            shown = True
    if building.is_set() and not shown:
        progress.stage("model")
    if failed:
        raise failed[0]


def extract_features(
    files: list[VideoFile],
    options: ScanOptions,
    embedder: Embedder,
    cache: FeatureCache,
    progress: Progress,
    token: CancelToken,
    counts: dict[str, int],
    seconds: dict[str, float] | None = None,
) -> tuple[dict[Path, tuple[Probe, VideoFeatures]], list[Problem]]:
    """Probe, decode and embed ``files``, reading and filling the cache.

    ``seconds``, when given, receives where the time went: ``model`` (making the network
    ready), ``embed`` (forward passes, in this thread) and ``decode`` (the decoder processes'
    own time, summed over files; they run in parallel with embedding).
    """
    seconds = {} if seconds is None else seconds
    key = feature_key(options, embedder)
    decoder_key = f"{options.decoder}|{options.sampling.key}"
    out: dict[Path, tuple[Probe, VideoFeatures]] = {}
    problems: list[Problem] = []
    todo: list[VideoFile] = []
    for f in files:
        hit = cache.lookup(f, key)
        if hit is not None:
            out[f.path] = (hit.probe, hit.features)
            problems += [Problem(f.path, Stage.DECODE, w, skipped=False) for w in hit.warnings]
            continue
        reason = cache.get_failure(f, decoder_key)
        if reason is not None:
            problems.append(
                Problem(f.path, Stage.DECODE, f"{reason} (remembered from an earlier scan)")
            )
            continue
        todo.append(f)
    counts["cache_hits"] = len(out)
    done = len(out) + len(problems)
    total = len(files)
    progress.update(done, total)
    if not todo:
        return out, problems
    inner = CancelToken()  # stops the decoders when this stage ends early
    with (
        DecodePool(
            options.decoder, options.sampling, options.decode_workers, options.file_timeout, inner
        ) as pool,
        _Prefetch(pool.imap(todo), options.decode_workers, token, inner) as decoded,
    ):
        # the decoders start while the model loads; the first scan with a model builds its
        # runtime model (a minute at most), shown as its own stage; no weights fail it here
        start = time.perf_counter()
        _load_model(embedder, options.sampling.size, progress, token)
        seconds["model"] = round(time.perf_counter() - start, 3)
        progress.stage("features")
        progress.update(done, total)
        results = iter(decoded)
        for first in results:
            # the videos already decoded, up to GROUP_FRAMES frames, are embedded together
            group = [first]
            frames = _frames(first[1])
            while frames < GROUP_FRAMES and decoded.ready():
                more = next(results, None)
                if more is None:
                    break
                group.append(more)
                frames += _frames(more[1])
            ready: list[tuple[VideoFile, DecodedVideo]] = []
            for f, result in group:
                # ``done`` counts files finished (stored or failed), never those in hand: a
                # scan cancelled after "2 done" has 2 files in the cache
                progress.update(done, total, str(f.path))
                if isinstance(result, Problem):
                    done += 1
                    problems.append(result)
                    if "budget" not in result.reason and "vanished" not in result.reason:
                        cache.put_failure(f, decoder_key, result.reason)
                    continue
                changed = _still_same(f)
                if changed is not None:
                    done += 1
                    problems.append(Problem(f.path, Stage.DECODE, changed))
                    continue
                ready.append((f, result))
            if not ready:
                continue
            token.raise_if_cancelled()
            start = time.perf_counter()
            feats_of = _features([r for _, r in ready], embedder, options.match.flip, token)
            seconds["embed"] = round(seconds.get("embed", 0.0) + time.perf_counter() - start, 3)
            for (f, result), feats in zip(ready, feats_of, strict=True):
                done += 1
                seconds["decode"] = round(seconds.get("decode", 0.0) + result.seconds, 3)
                counts["decoded"] = counts.get("decoded", 0) + 1
                counts["frames_decoded"] = counts.get("frames_decoded", 0) + feats.n_frames
                for w in result.warnings:
                    problems.append(Problem(f.path, Stage.DECODE, w, skipped=False))
                out[f.path] = (result.probe, feats)
                cache.put(f, key, result.probe, feats, result.warnings)
        progress.update(done, total)
    cache.commit()
    return out, problems
