"""Property tests: hostile bytes never raise anything but Rejected."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from classifiers.ingest import (
    SUPPORTED_EXTENSIONS,
    AzureDocument,
    Extracted,
    Limits,
    Rejected,
    csv_columns,
    extract,
    iter_archive,
    read_azure_labels,
    read_csv,
    read_jsonl,
    write_azure_labels,
)

from .builders import build_docx, build_eml, build_image, build_pdf, build_zip
from .olewriter import build_msg

# Hypothesis keeps caches in ./.hypothesis by default: keep the working tree clean.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "classifier-studio-hypothesis"))

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::PIL.Image.DecompressionBombWarning")

# Small limits keep each example fast; the code paths are the same.
LIMITS = Limits(max_file_bytes=1_000_000, timeout_seconds=5)
SETTINGS = settings(
    max_examples=int(os.environ.get("INGEST_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Magic prefixes take random data past the first check and into the parsers.
PREFIXES = [
    b"",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"II*\x00",
    b"MM\x00*",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<html>",
]


def _check(filename: str, data: bytes) -> None:
    try:
        result = extract(filename, data, LIMITS)
    except Rejected as exc:
        assert exc.message
        return
    assert isinstance(result, Extracted) and isinstance(result.text, str)


@pytest.mark.parametrize("ext", sorted(SUPPORTED_EXTENSIONS))
@SETTINGS
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048))
def test_random_bytes_only_ever_rejected(ext: str, prefix: bytes, body: bytes) -> None:
    _check("upload" + ext, prefix + body)


def _valid_samples() -> dict[str, bytes]:
    return {
        ".pdf": build_pdf([["Hello world"], ["Second page"]]),
        ".docx": build_docx(["Paragraph"], table=[["a", "b"]]),
        ".eml": build_eml(attachment=("a.bin", "application/octet-stream", b"\x00\x01")),
        ".msg": build_msg("Subject", "Body", attachments=[("a.txt", "text/plain", b"x")]),
        ".png": build_image("PNG", (80, 60)),
        ".jpg": build_image("JPEG", (80, 60)),
        ".tif": build_image("TIFF", (80, 60)),
        ".zip": build_zip({"a.txt": b"alpha", "b/c.txt": b"gamma"}),
    }


SAMPLES = _valid_samples()


@pytest.mark.parametrize("ext", sorted(SAMPLES))
@SETTINGS
@given(data=st.data())
def test_mutated_real_files_only_ever_rejected(ext: str, data: st.DataObject) -> None:
    """Flip, cut and splice bytes of real files: the nastiest inputs are almost valid ones."""
    original = bytearray(SAMPLES[ext])
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(original) - 1))
        original[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        original = original[: data.draw(st.integers(0, len(original)))]
    mutated = bytes(original)
    if ext == ".zip":
        try:
            for _member in iter_archive("u.zip", mutated, LIMITS):
                pass
        except Rejected:
            pass
    else:
        _check("upload" + ext, mutated)


@SETTINGS
@given(body=st.binary(max_size=2048))
def test_random_archives_only_ever_rejected(body: bytes) -> None:
    with contextlib.suppress(Rejected):
        list(iter_archive("u.zip", b"PK\x03\x04" + body, LIMITS))


@SETTINGS
@given(text=st.text(max_size=500), raw=st.binary(max_size=300))
def test_tabular_and_azure_readers(text: str, raw: bytes) -> None:
    for data in (text.encode("utf-8"), raw):
        for call in (
            lambda d: csv_columns(d),
            lambda d: list(read_csv(d, "text")),
            lambda d: list(read_jsonl(d, "text")),
            lambda d: read_azure_labels(d),
        ):
            try:
                call(data)
            except Rejected:
                pass
            except ValueError as exc:  # by design only for a column/field the file does not have
                assert str(exc).startswith("The file has no"), exc


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["Train", "A", "en"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@SETTINGS
@given(
    kind=st.sampled_from(["CustomSingleLabelClassification", "CustomMultiLabelClassification", 3, None]),
    classes=st.lists(st.one_of(st.fixed_dictionaries({"category": JSON_VALUES}), JSON_VALUES), max_size=4),
    documents=st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"location": JSON_VALUES},
                optional={
                    "dataset": JSON_VALUES,
                    "class": JSON_VALUES,
                    "classes": JSON_VALUES,
                    "language": JSON_VALUES,
                },
            ),
            JSON_VALUES,
        ),
        max_size=4,
    ),
    metadata=st.dictionaries(
        st.sampled_from(["projectName", "language", "settings", "multilingual"]), JSON_VALUES, max_size=4
    ),
)
def test_azure_shaped_json_only_ever_rejected(kind, classes, documents, metadata) -> None:
    payload = {
        "projectFileVersion": "2022-05-01",
        "metadata": {"projectKind": kind, **metadata},
        "assets": {"projectKind": kind, "classes": classes, "documents": documents},
    }
    try:
        project = read_azure_labels(json.dumps(payload).encode())
    except Rejected:
        return
    # Whatever was accepted must write back and read again to the same project.
    again = read_azure_labels(
        write_azure_labels(
            project.project_name, project.project_kind, project.language, project.classes, project.documents
        )
    )
    assert again.documents == [
        AzureDocument(d.location, d.language or project.language, d.dataset, d.classes)
        for d in project.documents
    ]
