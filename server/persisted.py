"""Persisted documents: automatic persisted queries (Apollo's protocol) and trusted documents.

A request names its document in one of three ways, and ``PersistedDocuments.resolve``
turns each into the document text before anything parses it:

- ``query``: the text itself;
- ``extensions.persistedQuery`` ``{"version": 1, "sha256Hash": "<hex>"}``, with or without
  ``query`` (automatic persisted queries: a hash alone runs a document the server has
  seen; a hash and its query register it in a bounded per-process store);
- ``documentId`` ``"sha256:<hex>"`` (the GraphQL-over-HTTP persisted documents appendix;
  a bare ``<hex>`` is accepted too).

With a trusted-documents manifest (a JSON object, sha256 hex -> document text, as
graphql-codegen's client preset writes it) only the manifest's documents run: anything
else is refused with ``PERSISTED_QUERY_NOT_IN_LIST`` before it is parsed, so it never
reaches a resolver or the upstream.

>>> documents = PersistedDocuments(max_entries=1000, max_bytes=16 * 1024 * 1024)
>>> query = documents.resolve(query=None, extensions=apq_extensions, document_id=None)
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import orjson
from cross_web import AsyncHTTPRequestAdapter
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol

__all__ = [
    "BAD_USER_INPUT",
    "DEFAULT_APQ_MAX_BYTES",
    "DEFAULT_APQ_MAX_ENTRIES",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_IN_LIST",
    "DocumentRefused",
    "DocumentStore",
    "PersistedDocuments",
    "PersistedDocumentsView",
    "load_manifest",
    "sha256_hex",
]

PERSISTED_QUERY_NOT_FOUND: Final = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_IN_LIST: Final = "PERSISTED_QUERY_NOT_IN_LIST"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
BAD_REQUEST: Final = "BAD_REQUEST"

DEFAULT_APQ_MAX_ENTRIES: Final = 1000
DEFAULT_APQ_MAX_BYTES: Final = 16 * 1024 * 1024

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_DOCUMENT_ID_PREFIX: Final = "sha256:"


class DocumentRefused(Exception):
    """A request whose document cannot run: ``status`` (HTTP), ``code`` (``extensions.code``).

    ``cache_miss`` marks the one refusal that is a normal step of the protocol: an APQ
    hash the server does not know yet, which the client answers by sending the query.
    """

    def __init__(self, status: int, code: str, message: str, *, cache_miss: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.cache_miss = cache_miss


def sha256_hex(document: str) -> str:
    """The lower-case hex SHA-256 of a document's UTF-8 text (what APQ and the manifest use)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class DocumentStore:
    """A bounded LRU of hash -> document text, safe to share between threads.

    Bounded twice: by entries and by the documents' total size, so a client that
    registers many large documents evicts older ones instead of growing the process.
    """

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> str | None:
        with self._lock:
            document = self._documents.get(digest)
            if document is not None:
                self._documents.move_to_end(digest)
            return document

    def put(self, digest: str, document: str) -> None:
        size = len(document)
        if size > self.max_bytes:
            return  # would evict everything else and still not fit
        with self._lock:
            previous = self._documents.pop(digest, None)
            if previous is not None:
                self._bytes -= len(previous)
            self._documents[digest] = document
            self._bytes += size
            while len(self._documents) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._documents.popitem(last=False)
                self._bytes -= len(evicted)

    def __len__(self) -> int:
        with self._lock:
            return len(self._documents)

    @property
    def size_bytes(self) -> int:
        """The total length of the stored documents, in characters."""
        with self._lock:
            return self._bytes


def load_manifest(path: Path) -> dict[str, str]:
    """A trusted-documents manifest: a JSON object of sha256 hex -> document text.

    Every key must be the hash of its document, so that a hand-edited manifest cannot
    make a hash run some other text. Raises ``ValueError`` naming the problem.
    """
    try:
        raw: Any = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ValueError(f"trusted documents manifest {path}: {error.strerror}") from error
    except orjson.JSONDecodeError as error:
        raise ValueError(f"trusted documents manifest {path} is not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"trusted documents manifest {path} is not a JSON object")
    manifest: dict[str, str] = {}
    for key, document in raw.items():
        digest = key.removeprefix(_DOCUMENT_ID_PREFIX).lower()
        if not isinstance(document, str) or not _SHA256_HEX.fullmatch(digest):
            raise ValueError(
                f"trusted documents manifest {path}: entry {key!r} is not hash -> text"
            )
        if sha256_hex(document) != digest:
            raise ValueError(
                f"trusted documents manifest {path}: entry {key!r} is not the sha256 of its document"
            )
        manifest[digest] = document
    return manifest


class PersistedDocuments:
    """Turns a request's ``query`` / APQ hash / ``documentId`` into the document to run.

    ``trusted`` (a manifest, hash -> text) set: only those documents run, and APQ
    registration is off (there is nothing to register). Unset: any document runs, and
    APQ hashes are served from a ``DocumentStore`` of ``max_entries`` / ``max_bytes``.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_APQ_MAX_ENTRIES,
        max_bytes: int = DEFAULT_APQ_MAX_BYTES,
        trusted: Mapping[str, str] | None = None,
    ) -> None:
        self.store = DocumentStore(max_entries=max_entries, max_bytes=max_bytes)
        self.trusted = dict(trusted) if trusted is not None else None

    def resolve(
        self,
        *,
        query: str | None,
        extensions: Mapping[str, Any] | None,
        document_id: object,
    ) -> str | None:
        """The document text this request runs (None: it named none); raises ``DocumentRefused``."""
        persisted = (extensions or {}).get("persistedQuery")
        if document_id is not None:
            if query is not None or persisted is not None:
                raise DocumentRefused(
                    400, BAD_REQUEST, "send either documentId or query/persistedQuery, not both"
                )
            return self._by_hash(_document_id_hash(document_id), apq=False)
        if persisted is not None:
            digest = _apq_hash(persisted)
            if query is None:
                return self._by_hash(digest, apq=True)
            if sha256_hex(query) != digest:
                raise DocumentRefused(400, BAD_USER_INPUT, "provided sha does not match query")
            if self.trusted is None:
                self.store.put(digest, query)
                return query
            return self._by_hash(digest, apq=True)
        if query is not None and self.trusted is not None:
            return self._by_hash(sha256_hex(query), apq=False)
        return query

    def _by_hash(self, digest: str, *, apq: bool) -> str:
        if self.trusted is not None:
            document = self.trusted.get(digest)
            if document is None:
                raise DocumentRefused(
                    400,
                    PERSISTED_QUERY_NOT_IN_LIST,
                    "only the trusted documents run on this server; this one is not among them",
                )
            return document
        document = self.store.get(digest)
        if document is None:
            if apq:
                # Apollo's wording: its clients match the message as well as the code.
                raise DocumentRefused(
                    404, PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound", cache_miss=True
                )
            raise DocumentRefused(
                404, PERSISTED_QUERY_NOT_FOUND, "no document with this documentId is known"
            )
        return document


def _apq_hash(persisted: object) -> str:
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise DocumentRefused(
            400, BAD_REQUEST, "extensions.persistedQuery must be {version: 1, sha256Hash}"
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
        raise DocumentRefused(
            400, BAD_USER_INPUT, "extensions.persistedQuery.sha256Hash must be 64 hex digits"
        )
    return digest.lower()


def _document_id_hash(document_id: object) -> str:
    if isinstance(document_id, str):
        digest = document_id.removeprefix(_DOCUMENT_ID_PREFIX).lower()
        if _SHA256_HEX.fullmatch(digest):
            return digest
    raise DocumentRefused(400, BAD_USER_INPUT, "documentId must be sha256:<64 hex digits>")


class PersistedDocumentsView:
    """What a Strawberry view adds to run persisted documents: mix it in before the view.

    >>> class Endpoint(PersistedDocumentsView, GraphQL): ...   # and set self.documents
    """

    documents: PersistedDocuments

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted document has no `query`, yet is no browser visit.
        params = request.query_params
        return (
            "documentId" not in params
            and "extensions" not in params
            and super().should_render_graphql_ide(request)  # type: ignore[misc]
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The view's parsing, then the document named by hash or id; before anything parses it."""
        data: GraphQLRequestData | list[GraphQLRequestData]
        data = await super().parse_http_body(request)  # type: ignore[misc]
        if isinstance(data, GraphQLRequestData):
            data.query = self.documents.resolve(
                query=data.query,
                extensions=data.extensions,
                document_id=await self._document_id(request),
            )
        return data

    async def _document_id(self, request: AsyncHTTPRequestAdapter) -> object:
        if request.method == "GET":
            return request.query_params.get("documentId")
        body = await request.get_body()  # already read and kept by Starlette
        if b"documentId" not in body:
            return None  # spares a second parse of every ordinary request
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None  # the view has answered that already
        return data.get("documentId") if isinstance(data, dict) else None
