"""Advice and best-times answers kept per loaded model, so a repeated request is a lookup.

An answer is a function of the request, the local date and hour, and the loaded model
(its version, cube, switched queues): a cached body is the one the route would compute,
byte for byte. Every entry belongs to one :class:`~serving.state.LoadedModel`; a request
carrying another one (a reload, a promotion picked up by the watch, the cube rolled at
midnight or rebuilt for the monitor's switches) empties the cache, and an answer computed
for a model that is no longer the cache's is not kept. Queue states change neither
answer. An advice also depends on the request's turn, only through the near-best hour it
puts first (:class:`serving.advice.walk_in.Rotation`): it is kept per index picked, and
the rotation itself per request, so a turn is resolved without computing the advice.

Bounded by bytes (LRU, ``WAITCAST_RESPONSE_CACHE_MB``; 0 keeps nothing) and shared by the
event loop and the thread pool under one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from cachetools import LRUCache

from serving.advice.walk_in import Rotation

_ROTATION_BYTES = 64  # accounted per rotation, plus 8 a weight
Entry = bytes | Rotation | None


def _size(value: Entry) -> int:
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Rotation):
        return _ROTATION_BYTES + 8 * len(value.weights)
    return _ROTATION_BYTES


class AnswerCache:
    """Answers of one loaded model at a time, bounded by ``max_bytes`` (0: keep none)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._model: object = None
        self._entries: LRUCache[Hashable, Entry] = LRUCache(max(max_bytes, 1), getsizeof=_size)
        self.hits = self.misses = 0

    def body(self, model: object, key: Hashable) -> bytes | None:
        """The kept answer to ``key`` under ``model``, or None."""
        found = self._get(model, ("body", key))
        return found if isinstance(found, bytes) else None

    def advice_body(self, model: object, key: Hashable, turn: int) -> bytes | None:
        """The kept advice for ``key`` and this ``turn``, or None."""
        if not self.max_bytes:
            self.misses += 1
            return None
        with self._lock:
            self._switch(model)
            rotation = self._entries.get(("rotation", key), False)
            if rotation is False:
                self.misses += 1
                return None
            pick = rotation.pick_for(turn) if isinstance(rotation, Rotation) else 0
            found = self._entries.get(("body", key, pick))
            self._count(found)
            return found if isinstance(found, bytes) else None

    def keep(self, model: object, key: Hashable, body: bytes) -> None:
        """Keep ``body`` as the answer to ``key`` (dropped when ``model`` is not current)."""
        self._put(model, {("body", key): body})

    def keep_advice(
        self, model: object, key: Hashable, rotation: Rotation | None, body: bytes
    ) -> None:
        """Keep an advice and the rotation its turn went through."""
        pick = rotation.pick if rotation is not None else 0
        self._put(model, {("rotation", key): rotation, ("body", key, pick): body})

    def _get(self, model: object, key: Hashable) -> Entry:
        if not self.max_bytes:
            self.misses += 1
            return None
        with self._lock:
            self._switch(model)
            found = self._entries.get(key)
            self._count(found)
            return found

    def _count(self, found: Entry) -> None:
        if isinstance(found, bytes):
            self.hits += 1
        else:
            self.misses += 1

    def _put(self, model: object, entries: dict[Hashable, Entry]) -> None:
        if not self.max_bytes:
            return
        with self._lock:
            if model is not self._model:
                return  # computed for a model no longer served here
            for key, value in entries.items():
                if _size(value) <= self.max_bytes:
                    self._entries[key] = value

    def _switch(self, model: object) -> None:
        if model is not self._model:
            self._entries.clear()
            self._model = model
