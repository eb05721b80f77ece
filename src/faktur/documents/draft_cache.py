"""Draft PDFs kept in memory until the draft changes, so a large draft is laid out once, not per request.

A draft's PDF is a pure function of its snapshot (the invoice, the live organisation and customer, and
the day it is shown with), so the SHA-256 of the snapshot's JSON is the key: any edit of the draft, its
customer or its seller, or a new day, gives another key, and a stale PDF can never be served. Entries
are dropped least recently used first beyond a byte budget. Per process: each replica lays a draft out
once. Finalized invoices do not need this; their documents are stored (see documents.service).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from faktur.documents.snapshot import InvoiceSnapshot

DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024


class DraftPdfCache:
    """Rendered draft PDFs by the SHA-256 of their snapshot, within `budget_bytes` (thread-safe)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(snapshot: InvoiceSnapshot) -> bytes:
        return hashlib.sha256(snapshot.model_dump_json().encode()).digest()

    def get_or_render(self, snapshot: InvoiceSnapshot, render: Callable[[InvoiceSnapshot], bytes]) -> bytes:
        key = self.key(snapshot)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                return cached
        # Rendered outside the lock: other drafts are served meanwhile. Two first requests for the
        # same draft may both render it; the results are byte-identical.
        content = render(snapshot)
        self._put(key, content)
        return content

    def _put(self, key: bytes, content: bytes) -> None:
        if len(content) > self.budget_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = content
            self._size += len(content)
            while self._size > self.budget_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)
