"""The persisted-documents rules: the APQ store's bounds, the manifest's checks, what resolves."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from server.persisted import (
    DocumentRefused,
    DocumentStore,
    PersistedDocuments,
    load_manifest,
    sha256_hex,
)

QUERY = "{ __typename }"


def _apq(query: str, *, version: int = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hex(query)}}


def test_store_evicts_the_least_recently_used_beyond_its_entries() -> None:
    store = DocumentStore(max_entries=2, max_bytes=1000)
    store.put("a", "A")
    store.put("b", "B")
    assert store.get("a") == "A"  # a is now the most recently used
    store.put("c", "C")

    assert (store.get("a"), store.get("b"), store.get("c")) == ("A", None, "C")
    assert len(store) == 2


def test_store_stays_within_its_bytes_however_large_the_documents() -> None:
    store = DocumentStore(max_entries=1000, max_bytes=100)
    for index in range(50):
        store.put(str(index), "x" * 30)

    assert store.size_bytes <= 100
    assert len(store) == 3
    store.put("huge", "x" * 101)  # larger than the whole store: not kept, nothing evicted
    assert store.get("huge") is None and len(store) == 3


def test_a_hash_alone_that_was_never_registered_is_not_found() -> None:
    documents = PersistedDocuments()
    with pytest.raises(DocumentRefused) as refused:
        documents.resolve(query=None, extensions=_apq(QUERY), document_id=None)
    assert refused.value.code == "PERSISTED_QUERY_NOT_FOUND"
    assert refused.value.message == "PersistedQueryNotFound"  # what Apollo's clients match
    assert refused.value.cache_miss


def test_a_query_with_its_hash_registers_it_for_the_hash_alone() -> None:
    documents = PersistedDocuments()
    assert documents.resolve(query=QUERY, extensions=_apq(QUERY), document_id=None) == QUERY
    assert documents.resolve(query=None, extensions=_apq(QUERY), document_id=None) == QUERY
    assert documents.resolve(query=None, extensions=None, document_id=f"sha256:{sha256_hex(QUERY)}")


def test_a_query_whose_hash_does_not_match_is_bad_input_and_not_registered() -> None:
    documents = PersistedDocuments()
    lie = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex("{ other }")}}
    with pytest.raises(DocumentRefused) as refused:
        documents.resolve(query=QUERY, extensions=lie, document_id=None)
    assert (refused.value.status, refused.value.code) == (400, "BAD_USER_INPUT")
    assert len(documents.store) == 0


@pytest.mark.parametrize(
    "persisted",
    [
        {"version": 2, "sha256Hash": sha256_hex(QUERY)},
        {"version": 1},
        {"version": 1, "sha256Hash": "abc"},
        {"version": 1, "sha256Hash": "../" + "0" * 61},
        "not an object",
    ],
)
def test_a_malformed_persisted_query_extension_is_refused(persisted: object) -> None:
    with pytest.raises(DocumentRefused) as refused:
        PersistedDocuments().resolve(
            query=None, extensions={"persistedQuery": persisted}, document_id=None
        )
    assert refused.value.status == 400


@pytest.mark.parametrize("document_id", ["sha1:" + "0" * 40, "sha256:xyz", 12, "", "sha256:"])
def test_a_malformed_document_id_is_bad_input(document_id: object) -> None:
    with pytest.raises(DocumentRefused) as refused:
        PersistedDocuments().resolve(query=None, extensions=None, document_id=document_id)
    assert (refused.value.status, refused.value.code) == (400, "BAD_USER_INPUT")


def test_a_document_id_with_a_query_is_refused() -> None:
    with pytest.raises(DocumentRefused) as refused:
        PersistedDocuments(trusted={sha256_hex(QUERY): QUERY}).resolve(
            query="{ evil }", extensions=None, document_id=f"sha256:{sha256_hex(QUERY)}"
        )
    assert refused.value.status == 400


def test_trusted_documents_run_by_id_bare_hash_apq_hash_or_their_exact_text() -> None:
    digest = sha256_hex(QUERY)
    documents = PersistedDocuments(trusted={digest: QUERY})

    assert documents.resolve(query=None, extensions=None, document_id=f"sha256:{digest}") == QUERY
    assert documents.resolve(query=None, extensions=None, document_id=digest.upper()) == QUERY
    assert documents.resolve(query=None, extensions=_apq(QUERY), document_id=None) == QUERY
    assert documents.resolve(query=QUERY, extensions=None, document_id=None) == QUERY


@pytest.mark.parametrize(
    ("query", "extensions", "document_id"),
    [
        ("{ __typename }\n", None, None),  # not the exact text
        ("{ __schema { types { name } } }", None, None),
        (None, _apq("{ other }"), None),
        ("{ other }", _apq("{ other }"), None),  # a matching hash does not make it trusted
        (None, None, f"sha256:{sha256_hex('{ other }')}"),
    ],
)
def test_anything_else_is_not_in_the_list(
    query: str | None, extensions: dict[str, object] | None, document_id: str | None
) -> None:
    documents = PersistedDocuments(trusted={sha256_hex(QUERY): QUERY})
    with pytest.raises(DocumentRefused) as refused:
        documents.resolve(query=query, extensions=extensions, document_id=document_id)
    assert refused.value.code == "PERSISTED_QUERY_NOT_IN_LIST"
    assert len(documents.store) == 0


def test_a_manifest_is_read_with_or_without_the_sha256_prefix(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    other = "query Other { __typename }"
    path.write_bytes(orjson.dumps({f"sha256:{sha256_hex(QUERY)}": QUERY, sha256_hex(other): other}))
    assert load_manifest(path) == {sha256_hex(QUERY): QUERY, sha256_hex(other): other}


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        orjson.dumps({"sha256:" + "0" * 64: QUERY}),  # a key that is not the text's hash
        orjson.dumps({sha256_hex(QUERY): 42}),
        orjson.dumps({"name": QUERY}),
    ],
)
def test_a_broken_manifest_is_refused_at_start(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"manifest\.json"):
        load_manifest(path)


def test_a_missing_manifest_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.json"):
        load_manifest(tmp_path / "missing.json")
