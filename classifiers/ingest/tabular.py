"""Bulk import: one document per CSV row or JSON line, with optional id and labels.

The readers validate the chosen columns eagerly (a wrong column name raises ``ValueError``
with the available names at call time) and then yield ``TabularRow`` or ``RejectedRow`` one
by one, so a bad row never stops the import. Whole-file problems (encoding, size) raise
``Rejected``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Reason, Rejected
from .limits import DEFAULT_LIMITS, Limits
from .text import clean_text, decode_text

TABULAR_EXTENSIONS: frozenset[str] = frozenset({".csv", ".tsv", ".jsonl", ".ndjson"})
_DELIMITERS = (",", ";", "\t", "|")
_FIELD_SAMPLE_LINES = 100  # JSON lines inspected to list the fields


@dataclass(frozen=True)
class TabularRow:
    """One importable row. ``row_number``: CSV = spreadsheet row (the header is row 1, so the
    first data row is 2); JSONL = line number (from 1). ``extra``: the other columns/fields."""

    row_number: int
    external_id: str | None
    text: str
    labels: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    reason: Reason
    message: str


def is_tabular(filename: str) -> bool:
    """True for files read by the bulk import (``.csv``, ``.tsv``, ``.jsonl``, ``.ndjson``)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "." in base and "." + base.rsplit(".", 1)[-1].lower() in TABULAR_EXTENSIONS


def _decode(data: bytes, limits: Limits) -> str:
    if len(data) > limits.max_file_bytes:
        raise Rejected(Reason.TOO_LARGE, f"The file is {len(data) / 1048576:,.1f} MiB; the limit is "
                                         f"{limits.max_file_bytes / 1048576:,.1f} MiB.")
    text = decode_text(data)
    if not text.strip():
        raise Rejected(Reason.EMPTY_TEXT, "The file is empty.")
    return text


def _split_labels(value: Any, separator: str | None) -> list[str]:
    """Labels from a cell / JSON value: str (optionally split), number, or list of those."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, dict | list):
            raise ValueError("labels must be text or a list of text")
        text = item if isinstance(item, str) else json.dumps(item) if isinstance(item, bool) else str(item)
        pieces = text.split(separator) if separator else [text]
        for piece in pieces:
            piece = " ".join(clean_text(piece).split())
            if piece and piece not in out:
                out.append(piece)
    return out


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _check_text(row_number: int, text: str | None, limits: Limits, what: str) -> RejectedRow | None:
    if text is None or not text.strip():
        return RejectedRow(row_number, Reason.EMPTY_TEXT, f"{what} {row_number} has no text.")
    if len(text) > limits.max_text_chars:
        return RejectedRow(row_number, Reason.TOO_LARGE, f"{what} {row_number} has {len(text):,} characters; "
                                                         f"the limit is {limits.max_text_chars:,}.")
    return None


# --- CSV -----------------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    """Delimiter from the header line: it rarely has quoted delimiters, unlike data rows, which
    makes this sturdier than csv.Sniffer on real exports (Excel in Europe writes ";")."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unique_columns(header: list[str]) -> list[str]:
    """Header names made usable: trimmed, blanks named "column_N", duplicates suffixed "_2"."""
    names: list[str] = []
    for index, raw in enumerate(header, start=1):
        name = " ".join(raw.split()) or f"column_{index}"
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        names.append(candidate)
    return names


def _csv_reader(text: str, delimiter: str | None) -> tuple[Any, list[str]]:
    # The csv module caps fields at 128 KiB by default; a document can be far longer. The cap
    # is process-wide, so only ever raise it (to the size of the data we hold anyway).
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _sniff_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise Rejected(Reason.EMPTY_TEXT, "The file is empty.") from None
    except csv.Error as exc:
        raise Rejected(Reason.CORRUPT, f"The header row could not be read: {exc}.") from exc
    return reader, _unique_columns(header)


def csv_columns(data: bytes, delimiter: str | None = None, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Column names of a CSV (for the column picker), as ``read_csv`` will know them."""
    _reader, columns = _csv_reader(_decode(data, limits), delimiter)
    return columns


def _missing(kind: str, name: str, available: Sequence[str]) -> ValueError:
    shown = ", ".join(repr(c) for c in list(available)[:50]) or "none"
    return ValueError(f"The file has no {kind} {name!r}. Available: {shown}.")


def read_csv(
    data: bytes,
    text_column: str,
    label_columns: Sequence[str] = (),
    id_column: str | None = None,
    label_separator: str | None = None,
    *,
    delimiter: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[TabularRow | RejectedRow]:
    """Rows of a CSV with a header. The delimiter (, ; tab |) is sniffed from the header line.

    Each label column may hold several labels split by ``label_separator`` (e.g. ``";"``).
    Raises ``ValueError`` for a column that does not exist, ``Rejected`` for an unreadable file.
    """
    reader, columns = _csv_reader(_decode(data, limits), delimiter)
    for name in [text_column, *label_columns, *([id_column] if id_column else [])]:
        if name not in columns:
            raise _missing("column", name, columns)
    return _csv_rows(reader, columns, text_column, list(label_columns), id_column, label_separator, limits)


def _csv_rows(reader: Any, columns: list[str], text_column: str, label_columns: list[str],
              id_column: str | None, label_separator: str | None,
              limits: Limits) -> Iterator[TabularRow | RejectedRow]:
    index = {name: i for i, name in enumerate(columns)}
    used = {text_column, *label_columns, *([id_column] if id_column else [])}
    row_number = 1
    count = 0
    while True:
        row_number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RejectedRow(row_number, Reason.CORRUPT, f"Row {row_number} could not be read: {exc}.")
            continue
        if not any(c.strip() for c in cells):
            continue  # blank line, e.g. at the end of the file
        count += 1
        if count > limits.max_tabular_rows:
            yield RejectedRow(row_number, Reason.TOO_MANY_FILES,
                              f"Stopped at row {row_number}: at most {limits.max_tabular_rows:,} rows "
                              f"are imported.")
            return

        def cell(name: str, cells: list[str] = cells) -> str | None:
            i = index[name]
            return cells[i] if i < len(cells) else None

        text = _text_value(cell(text_column))
        problem = _check_text(row_number, text, limits, "Row")
        if problem:
            yield problem
            continue
        labels: list[str] = []
        for name in label_columns:
            for label in _split_labels(cell(name), label_separator):
                if label not in labels:
                    labels.append(label)
        external_id = ((cell(id_column) or "").strip() or None) if id_column else None
        extra = {name: cells[i] for name, i in index.items() if name not in used and i < len(cells)}
        if len(cells) > len(columns):
            extra["_extra_cells"] = cells[len(columns):]
        yield TabularRow(row_number, external_id, text or "", labels, extra)


# --- JSON lines ----------------------------------------------------------------------------------


def _json_objects(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """``(line number, object or None, error)`` for each non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except (ValueError, RecursionError) as exc:
            yield number, None, str(exc)


def jsonl_fields(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Top-level field names seen in the first lines of a JSONL file, in first-seen order."""
    return _fields_of(_decode(data, limits))


def _fields_of(text: str) -> list[str]:
    fields: list[str] = []
    seen = 0
    for _number, obj, _error in _json_objects(text):
        if isinstance(obj, dict):
            for key in obj:
                if key not in fields:
                    fields.append(key)
            seen += 1
            if seen >= _FIELD_SAMPLE_LINES:
                break
    return fields


def read_jsonl(
    data: bytes,
    text_field: str,
    label_fields: Sequence[str] = (),
    id_field: str | None = None,
    label_separator: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[TabularRow | RejectedRow]:
    """Rows of a JSON-lines file (one object per line). Label values may be a string or a list
    of strings. A bad line becomes a ``RejectedRow`` with its line number.

    Raises ``ValueError`` when no line of the first ones has ``text_field`` (a wrong field
    name), ``Rejected`` when the file is unreadable or has no JSON object at all.
    """
    text = _decode(data, limits)
    fields = _fields_of(text)
    if not fields:
        raise Rejected(Reason.CORRUPT, "The file holds no JSON objects (one per line expected).")
    for name in [text_field, *label_fields, *([id_field] if id_field else [])]:
        if name not in fields:
            raise _missing("field", name, fields)
    return _jsonl_rows(text, text_field, list(label_fields), id_field, label_separator, limits)


def _jsonl_rows(text: str, text_field: str, label_fields: list[str], id_field: str | None,
                label_separator: str | None, limits: Limits) -> Iterator[TabularRow | RejectedRow]:
    used = {text_field, *label_fields, *([id_field] if id_field else [])}
    count = 0
    for number, obj, error in _json_objects(text):
        count += 1
        if count > limits.max_tabular_rows:
            yield RejectedRow(number, Reason.TOO_MANY_FILES,
                              f"Stopped at line {number}: at most {limits.max_tabular_rows:,} rows "
                              f"are imported.")
            return
        if error is not None:
            yield RejectedRow(number, Reason.CORRUPT, f"Line {number} is not valid JSON: {error}.")
            continue
        if not isinstance(obj, dict):
            yield RejectedRow(number, Reason.CORRUPT, f"Line {number} is not a JSON object.")
            continue
        value = obj.get(text_field)
        doc_text = _text_value(value)
        if value is not None and doc_text is None:
            yield RejectedRow(number, Reason.CORRUPT, f"Line {number}: {text_field!r} must be text.")
            continue
        problem = _check_text(number, doc_text, limits, "Line")
        if problem:
            yield problem
            continue
        labels: list[str] = []
        try:
            for name in label_fields:
                for label in _split_labels(obj.get(name), label_separator):
                    if label not in labels:
                        labels.append(label)
        except ValueError as exc:
            yield RejectedRow(number, Reason.CORRUPT, f"Line {number}: {exc}.")
            continue
        raw_id = obj.get(id_field) if id_field else None
        external_id = None
        if raw_id is not None and not isinstance(raw_id, dict | list):
            external_id = str(raw_id).strip() or None
        extra = {k: v for k, v in obj.items() if k not in used}
        yield TabularRow(number, external_id, doc_text or "", labels, extra)
