"""Bulk import: CSV and JSON lines."""

from __future__ import annotations

import csv
import json

import pytest

from classifiers.ingest import (
    Limits,
    Rejected,
    RejectedRow,
    TabularRow,
    csv_columns,
    jsonl_fields,
    read_csv,
    read_jsonl,
)
from tests.corpora import load_corpus

CSV = (
    "id,text,label,tags,source\r\n"
    '1,"Invoice overdue, please pay",finance,urgent;billing,mail\r\n'
    '2,"Multi-line\ncell text",legal,,web\r\n'
    "3,,hr,,web\r\n"
    "\r\n"
    "4,Short row\r\n"
)


def test_csv_columns_and_rows() -> None:
    data = CSV.encode("utf-8")
    assert csv_columns(data) == ["id", "text", "label", "tags", "source"]
    rows = list(read_csv(data, "text", ["label", "tags"], id_column="id", label_separator=";"))
    assert rows[0] == TabularRow(
        2, "1", "Invoice overdue, please pay", ["finance", "urgent", "billing"], {"source": "mail"}
    )
    assert rows[1].text == "Multi-line\ncell text" and rows[1].labels == ["legal"]
    assert isinstance(rows[2], RejectedRow) and rows[2].reason == "empty_text" and rows[2].row_number == 4
    assert rows[3] == TabularRow(6, "4", "Short row", [], {})  # blank line skipped, short row padded
    assert len(rows) == 4


def test_csv_semicolon_delimiter_bom_and_cp1252() -> None:
    data = "\ufeffTexte;Catégorie\r\nDéclaration de conformité;légal\r\n".encode("utf-8")
    assert csv_columns(data) == ["Texte", "Catégorie"]
    (row,) = read_csv(data, "Texte", ["Catégorie"])
    assert (row.text, row.labels) == ("Déclaration de conformité", ["légal"])
    latin = "text\tlabel\nCafé crème\tfood\n".encode("cp1252")
    (row,) = read_csv(latin, "text", ["label"])
    assert row.text == "Café crème"


def test_csv_utf16_excel_export() -> None:
    data = "text\tlabel\r\nHello\tgreeting\r\n".encode("utf-16")
    (row,) = read_csv(data, "text", ["label"])
    assert (row.text, row.labels) == ("Hello", ["greeting"])


def test_csv_missing_column_fails_at_call_time() -> None:
    with pytest.raises(ValueError, match=r"no column 'body'.*'text'"):
        read_csv(CSV.encode(), "body")
    with pytest.raises(ValueError, match="no column 'category'"):
        read_csv(CSV.encode(), "text", ["category"])


def test_csv_duplicate_and_blank_headers() -> None:
    assert csv_columns(b"text,text,,x\n1,2,3,4\n") == ["text", "text_2", "column_3", "x"]


def test_csv_huge_field() -> None:
    big = "word " * 100_000  # 500 kB, over the csv module's default 128 kB field limit
    data = f'text,label\n"{big}",a\n'.encode()
    (row,) = read_csv(data, "text", ["label"])
    assert len(row.text) == len(big)
    (row,) = read_csv(data, "text", limits=Limits(max_text_chars=1000))
    assert isinstance(row, RejectedRow) and row.reason == "too_large"
    assert csv.field_size_limit() >= len(big)


def test_csv_row_limit_and_whole_file_errors() -> None:
    data = "text\n" + "".join(f"row {i}\n" for i in range(10))
    rows = list(read_csv(data.encode(), "text", limits=Limits(max_tabular_rows=3)))
    assert len(rows) == 4 and rows[-1].reason == "too_many_files"
    with pytest.raises(Rejected) as info:
        read_csv(b"", "text")
    assert info.value.reason == "empty_text"
    with pytest.raises(Rejected) as info:
        read_csv(bytes(range(256)) * 10, "text")
    assert info.value.reason == "undecodable"


JSONL = (
    '{"id": 7, "text": "Quarterly figures", "label": "finance", "meta": {"a": 1}}\n'
    '{"id": "8", "text": "Two labels", "label": ["legal", "hr", "legal"]}\n'
    "\n"
    "{not json\n"
    '{"id": 9, "text": ""}\n'
    '["an", "array"]\n'
    '{"id": 10, "text": {"nested": true}}\n'
    '{"id": 11, "text": "Bad labels", "label": {"x": 1}}\n'
    '{"id": 12, "text": "No label field"}\n'
)


def test_jsonl_rows_and_line_numbers() -> None:
    data = JSONL.encode()
    assert jsonl_fields(data) == ["id", "text", "label", "meta"]
    rows = list(read_jsonl(data, "text", ["label"], id_field="id"))
    assert rows[0] == TabularRow(1, "7", "Quarterly figures", ["finance"], {"meta": {"a": 1}})
    assert rows[1].labels == ["legal", "hr"] and rows[1].external_id == "8"
    by_line = {r.row_number: r for r in rows}
    assert by_line[4].reason == "corrupt" and "Line 4" in by_line[4].message
    assert by_line[5].reason == "empty_text"
    assert by_line[6].reason == "corrupt"
    assert by_line[7].reason == "corrupt"
    assert by_line[8].reason == "corrupt"
    assert by_line[9] == TabularRow(9, "12", "No label field", [], {})
    json.dumps([r.extra for r in rows if isinstance(r, TabularRow)])


def test_jsonl_missing_field_and_no_objects() -> None:
    with pytest.raises(ValueError, match="no field 'body'"):
        read_jsonl(JSONL.encode(), "body")
    with pytest.raises(Rejected) as info:
        read_jsonl(b"[1, 2]\n3\n", "text")
    assert info.value.reason == "corrupt"


def test_jsonl_real_corpus_lines() -> None:
    corpus = load_corpus("debtags", limit=50)
    data = "\n".join(json.dumps(row) for row in corpus).encode()
    rows = list(read_jsonl(data, "text", ["label"], id_field="id"))
    assert len(rows) == 50 and all(isinstance(r, TabularRow) for r in rows)
    assert rows[0].external_id == str(corpus[0]["id"]) and rows[0].labels == list(
        dict.fromkeys(corpus[0]["label"])
    )
