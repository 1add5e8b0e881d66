"""classifiers.search: full-text quoting, every filter, keyset pages, cursors, counts.

Runs on SQLite (FTS5) and, with DATABASE_URL=postgres://..., on PostgreSQL (tsvector)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from classifiers import search
from classifiers.models import Class, Document, Tag, UploadBatch
from classifiers.search import (
    DocumentQuery,
    count_documents,
    decode_cursor,
    documents_for_query,
    encode_cursor,
    filtered_documents,
    fts5_match,
    keyset_page,
    neighbours,
    parse_query,
)
from tests.conftest import make_project


def make_doc(project, text: str = "some text", **fields) -> Document:
    """A document as the importer would store it (shared by the document tests)."""
    fields.setdefault("filename", f"{hashlib.md5(text.encode()).hexdigest()[:8]}.txt")
    fields.setdefault("text_chars", len(text))
    fields.setdefault("has_text", bool(text))
    fields.setdefault("size", len(text.encode()))
    return Document.objects.create(
        project=project, text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(), **fields
    )


def ids(qs) -> list[int]:
    return [d.pk for d in qs]


HOSTILE = [
    "AND (",
    '"',
    '""',
    '"unclosed',
    "*",
    "a*",
    "NEAR(",
    "NEAR(a b, 2)",
    "foo OR",
    "NOT",
    "(",
    ")",
    "text:foo",
    "^start",
    "-minus +plus",
    "'; DROP TABLE classifiers_document; --",
    "%_\\",
    "{curly} [square]",
    "日本語のテキスト",
    "Grüße café 🎉",
    "a & b | !c <-> d",
    "x" * 200,
    " ".join(["word"] * 60),
]


@pytest.fixture
def corpus(project):
    return {
        "rock": make_doc(project, "Rock and roll is here to stay"),
        "cafe": make_doc(project, "Meet me at the Café near the station"),
        "invoice": make_doc(project, "Invoice 2024-118 overdue: please pay"),
        "japanese": make_doc(project, "日本語 のテキスト です"),
        "quote": make_doc(project, 'He said "hello" and left'),
    }


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_raise(project, corpus, q):
    query, _form = parse_query({"q": q}, project)
    qs = filtered_documents(project, query, None)
    list(qs)  # evaluates without a syntax error on either database
    count_documents(qs, query)


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_through_the_view(project, corpus, admin_user, q):
    from tests.helpers import login

    response = login(admin_user).get(f"/projects/{project.slug}/documents/", {"q": q})
    assert response.status_code == 200


def test_fts5_quoting():
    assert fts5_match('AND ( "x" NEAR(') == '"AND" "(" """x""" "NEAR("'
    assert fts5_match("  ") == ""
    assert fts5_match("a\x00b") == '"a" "b"'


@pytest.mark.parametrize(
    "q, expected",
    [
        ("rock", ["rock"]),
        ("ROCK roll", ["rock"]),
        ("and", ["rock", "quote"]),  # an operator word is a plain word
        ("AND", ["rock", "quote"]),
        ("hello", ["quote"]),  # inside quotes in the text
        ('"hello"', ["quote"]),
        ("invoice overdue", ["invoice"]),
        ("invoice missing", []),  # every word must be present
        ("2024", ["invoice"]),
        ("*", []),
        ("nothing-here", []),
    ],
)
def test_search_matches_every_word(project, corpus, q, expected):
    query, _ = parse_query({"q": q}, project)
    found = set(ids(filtered_documents(project, query)))
    assert found == {corpus[k].pk for k in expected}


def test_search_unicode(project, corpus):
    query, _ = parse_query({"q": "café"}, project)
    assert ids(filtered_documents(project, query)) == [corpus["cafe"].pk]
    if connection.vendor == "sqlite":  # unicode61 remove_diacritics also folds accents
        query, _ = parse_query({"q": "cafe"}, project)
        assert ids(filtered_documents(project, query)) == [corpus["cafe"].pk]


def test_search_stays_in_the_project(project, other_project, corpus):
    theirs = make_doc(other_project, "Rock and roll in another project")
    query, _ = parse_query({"q": "rock"}, project)
    assert ids(filtered_documents(project, query)) == [corpus["rock"].pk]
    query, _ = parse_query({"q": "rock"}, other_project)
    assert ids(filtered_documents(other_project, query)) == [theirs.pk]


def test_index_follows_updates_and_deletes(project, corpus):
    doc = corpus["rock"]
    doc.text = "Jazz is here to stay"
    doc.save()
    for word, expected in (("rock", []), ("jazz", [doc.pk])):
        query, _ = parse_query({"q": word}, project)
        assert ids(filtered_documents(project, query)) == expected
    # Moving a document between sets keeps it findable (the trigger watches the text only).
    Document.objects.filter(pk=doc.pk).update(set="test")
    query, _ = parse_query({"q": "jazz", "set": "test"}, project)
    assert ids(filtered_documents(project, query)) == [doc.pk]
    doc.delete()
    query, _ = parse_query({"q": "jazz"}, project)
    assert ids(filtered_documents(project, query)) == []


# --- Filters ----------------------------------------------------------------------------------
@pytest.fixture
def tagged(project, admin_user, tagger_user):
    a = Class.objects.create(project=project, name="Billing")
    b = Class.objects.create(project=project, name="Legal")
    batch = UploadBatch.objects.create(project=project, created_by=admin_user)
    docs = {
        "billing": make_doc(project, "billing one", batch=batch),
        "legal": make_doc(project, "legal two", set="test"),
        "both": make_doc(project, "both three", batch=batch),
        "none": make_doc(project, "", has_text=False),
    }
    Tag.objects.create(project=project, document=docs["billing"], tag_class=a, tagger=admin_user)
    Tag.objects.create(project=project, document=docs["legal"], tag_class=b, tagger=tagger_user)
    Tag.objects.create(project=project, document=docs["both"], tag_class=b, tagger=admin_user)
    Tag.objects.create(project=project, document=docs["both"], tag_class=a, tagger=tagger_user)
    return {"docs": docs, "a": a, "b": b, "batch": batch}


def found(project, params, user=None) -> set[str]:
    query, _ = parse_query(params, project)
    return {d.text.split(" ")[0] or "none" for d in filtered_documents(project, query, user)}


def test_every_filter(project, tagged, admin_user, tagger_user):
    a, b, batch = tagged["a"], tagged["b"], tagged["batch"]
    assert found(project, {}) == {"billing", "legal", "both", "none"}
    assert found(project, {"set": "test"}) == {"legal"}
    assert found(project, {"set": "training"}) == {"billing", "both", "none"}
    assert found(project, {"class": a.pk}) == {"billing", "both"}
    assert found(project, {"class": b.pk, "set": "training"}) == {"both"}
    assert found(project, {"untagged": "1"}) == {"none"}
    assert found(project, {"tagged_by_me": "1"}, admin_user) == {"billing", "both"}
    assert found(project, {"tagged_by_me": "1"}, tagger_user) == {"legal", "both"}
    assert found(project, {"tagged_by_me": "1"}, None) == set()
    assert found(project, {"batch": batch.pk}) == {"billing", "both"}
    assert found(project, {"has_text": "no"}) == {"none"}
    assert found(project, {"has_text": "yes"}) == {"billing", "legal", "both"}
    assert found(project, {"q": "three", "class": a.pk}) == {"both"}


def test_date_range(project, tagged):
    old = tagged["docs"]["legal"]
    Document.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert found(project, {"date_to": (today - timedelta(days=5)).isoformat()}) == {"legal"}
    assert found(project, {"date_from": today.isoformat()}) == {"billing", "both", "none"}
    assert found(project, {"date_from": today.isoformat(), "date_to": today.isoformat()}) == {
        "billing",
        "both",
        "none",
    }


def test_not_match_filter_for_trainable(admin_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    category = project.classes.get()
    yes, no = make_doc(project, "yes doc"), make_doc(project, "no doc")
    make_doc(project, "x")
    Tag.objects.create(project=project, document=yes, tag_class=category, tagger=admin_user, positive=True)
    Tag.objects.create(project=project, document=no, tag_class=category, tagger=admin_user, positive=False)
    assert found(project, {"class": category.pk}) == {"yes"}
    assert found(project, {"not_match": "1"}) == {"no"}
    assert found(project, {"untagged": "1"}) == {"x"}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"set": "nonsense"}, "Set"),
        ({"class": "abc"}, "Class"),
        ({"class": "999999"}, "Class"),
        ({"batch": "-1"}, "Upload batch"),
        ({"date_from": "yesterday"}, "Imported from"),
        ({"date_from": "2000-02-02", "date_to": "2000-01-01"}, "Imported to"),
        ({"sort": "random()"}, "Sort"),
        ({"q": "a\x00b"}, "Search"),
        ({"q": "x" * 201}, "Search"),
    ],
)
def test_bad_params_are_dropped_and_explained(project, tagged, params, field):
    query, _form = parse_query(params, project)
    assert any(e.startswith(field) for e in query.errors), query.errors
    assert len(list(filtered_documents(project, query))) == 4


def test_class_of_another_project_is_refused(project, other_project):
    theirs = Class.objects.create(project=other_project, name="Theirs")
    query, _ = parse_query({"class": theirs.pk}, project)
    assert query.cls is None and query.errors


def test_query_params_round_trip(project, tagged):
    params = {"q": "x y", "set": "test", "class": str(tagged["a"].pk), "untagged": "1", "sort": "size"}
    query, _ = parse_query(params, project)
    assert query.params() == params
    again, _ = parse_query(query.params(), project)
    assert again == query
    assert DocumentQuery().params() == {} and not DocumentQuery().is_filtered


def test_documents_for_query_for_exports(project, tagged):
    assert {d.pk for d in documents_for_query(project, {"set": "test"})} == {tagged["docs"]["legal"].pk}


def test_count_is_capped_for_searches(project, monkeypatch):
    for i in range(6):
        make_doc(project, f"common word {i}")
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    query, _ = parse_query({"q": "common"}, project)
    assert count_documents(filtered_documents(project, query), query) == (4, True)
    query, _ = parse_query({"q": "common 3"}, project)
    assert count_documents(filtered_documents(project, query), query) == (1, False)
    query, _ = parse_query({}, project)
    assert count_documents(filtered_documents(project, query), query) == (6, False)


# --- Keyset pages -----------------------------------------------------------------------------
@pytest.fixture
def seven(project):
    # Equal file names and sizes on purpose: ties are broken by id.
    names = ["b.txt", "a.txt", "c.txt", "a.txt", "b.txt", "d.txt", "a.txt"]
    sizes = [30, 10, 30, 20, 10, 40, 30]
    return [
        make_doc(project, f"doc {i}", filename=n, size=s)
        for i, (n, s) in enumerate(zip(names, sizes, strict=True))
    ]


def expected_order(docs, sort):
    if sort == "newest":
        return sorted(docs, key=lambda d: -d.pk)
    if sort == "oldest":
        return sorted(docs, key=lambda d: d.pk)
    if sort == "filename":
        return sorted(docs, key=lambda d: (d.filename, d.pk))
    return sorted(docs, key=lambda d: (-d.size, -d.pk))


@pytest.mark.parametrize("sort", ["newest", "oldest", "filename", "size"])
def test_keyset_walks_forward_and_back(project, seven, sort):
    qs = filtered_documents(project, DocumentQuery(sort=sort))
    want = [d.pk for d in expected_order(seven, sort)]

    page = keyset_page(qs, sort, size=3)
    assert page.prev_cursor is None
    seen, pages = ids(page), [page]
    while page.has_next:
        page = keyset_page(qs, sort, after=page.next_cursor, size=3)
        seen += ids(page)
        pages.append(page)
    assert seen == want
    assert [len(p) for p in pages] == [3, 3, 1]

    # Back from the end, page by page.
    back = []
    while page.has_prev:
        page = keyset_page(qs, sort, before=page.prev_cursor, size=3)
        back = ids(page) + back
    assert back == want[:6]

    last = keyset_page(qs, sort, last=True, size=3)
    assert ids(last) == want[-3:] and last.next_cursor is None and last.has_prev
    before_last = keyset_page(qs, sort, before=last.prev_cursor, size=3)
    assert ids(before_last) == want[1:4] and before_last.has_next


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(json.dumps(["oldest", 5, 5]).encode()).decode(),  # another sort
        base64.urlsafe_b64encode(json.dumps(["newest", 5, -1]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["newest", 5, True]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["newest", "x", 5]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["newest", 5, 2**70]).encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "A" * 5000,
    ],
)
def test_tampered_cursor_gives_the_first_page(project, seven, cursor):
    qs = filtered_documents(project, DocumentQuery())
    first = ids(keyset_page(qs, "newest", size=3))
    assert ids(keyset_page(qs, "newest", after=cursor, size=3)) == first
    assert ids(keyset_page(qs, "newest", before=cursor, size=3)) == first


def test_filename_cursor_rejects_bad_values(project, seven):
    cursor = base64.urlsafe_b64encode(json.dumps(["filename", 12, 3]).encode()).decode()
    assert decode_cursor(cursor, "filename") is None
    assert decode_cursor(encode_cursor("filename", seven[0]), "filename") == ("b.txt", seven[0].pk)


def test_cursor_past_the_end_gives_the_last_page(project, seven):
    qs = filtered_documents(project, DocumentQuery(sort="oldest"))
    cursor = encode_cursor("oldest", Document(pk=seven[-1].pk + 100, size=0))
    assert ids(keyset_page(qs, "oldest", after=cursor, size=3)) == [d.pk for d in seven[-3:]]


def test_neighbours(project, seven):
    qs = filtered_documents(project, DocumentQuery(sort="filename"))
    order = [d.pk for d in expected_order(seven, "filename")]
    middle = Document.objects.get(pk=order[3])
    assert neighbours(qs, "filename", middle) == (order[2], order[4])
    first = Document.objects.get(pk=order[0])
    assert neighbours(qs, "filename", first) == (None, order[1])


def test_keyset_page_within_a_search(project, seven):
    query, _ = parse_query({"q": "doc", "sort": "oldest"}, project)
    qs = filtered_documents(project, query)
    page = keyset_page(qs, "oldest", size=4)
    assert ids(page) == [d.pk for d in seven[:4]]
    assert ids(keyset_page(qs, "oldest", after=page.next_cursor, size=4)) == [d.pk for d in seven[4:]]


def test_full_text_index_exists_after_all_migrations(db):
    """A later migration that rebuilds classifiers_document on SQLite drops the FTS
    triggers with the old table (see migration 0003): this catches it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'classifiers_document_fts_%'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "classifiers_document_fts_ai",
                "classifiers_document_fts_ad",
                "classifiers_document_fts_au",
            }
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'classifiers_document' AND indexname = 'doc_search_vector_gin'"
            )
            assert cursor.fetchall() == [("doc_search_vector_gin",)]
