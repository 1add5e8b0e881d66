"""Azure custom text classification labels files: read, write, round-trip, pairing."""

from __future__ import annotations

import json
import pickle

import pytest

from classifiers.ingest import (
    MULTI_LABEL,
    SINGLE_LABEL,
    AzureDocument,
    InvalidLabelsFile,
    Rejected,
    extract,
    iter_archive,
    pair_azure_documents,
    read_azure_labels,
    write_azure_labels,
)

from .builders import build_zip

# As in Microsoft's "labels file format" documentation for multi-label projects.
AZURE_MULTI = {
    "projectFileVersion": "2022-05-01",
    "stringIndexType": "Utf16CodeUnit",
    "metadata": {
        "projectKind": "CustomMultiLabelClassification",
        "storageInputContainerName": "movies",
        "projectName": "movie-genres",
        "multilingual": False,
        "description": "Genres of movie summaries",
        "language": "en-us",
    },
    "assets": {
        "projectKind": "CustomMultiLabelClassification",
        "classes": [{"category": "Comedy"}, {"category": "Drama"}, {"category": "Horror"}],
        "documents": [
            {
                "location": "film1.txt",
                "language": "en-us",
                "dataset": "Train",
                "classes": [{"category": "Comedy"}, {"category": "Drama"}],
            },
            {
                "location": "film2.txt",
                "language": "en-us",
                "dataset": "Test",
                "classes": [{"category": "Horror"}],
            },
            {"location": "film3.txt", "language": "en-us", "classes": []},
        ],
    },
}


def test_read_documented_multi_label_file() -> None:
    project = read_azure_labels(json.dumps(AZURE_MULTI).encode())
    assert project.project_kind == MULTI_LABEL and project.multi_label
    assert (project.project_name, project.language, project.storage_input_container_name) == (
        "movie-genres",
        "en-us",
        "movies",
    )
    assert project.classes == ["Comedy", "Drama", "Horror"]
    assert project.documents[0] == AzureDocument("film1.txt", "en-us", "Train", ["Comedy", "Drama"])
    assert project.documents[1].dataset == "Test"
    assert project.documents[2].dataset is None and project.documents[2].classes == []


def test_single_label_with_class_object() -> None:
    data = {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": SINGLE_LABEL, "projectName": "p", "language": "en-us"},
        "assets": {
            "projectKind": SINGLE_LABEL,
            "classes": [{"category": "A"}, {"category": "B"}],
            "documents": [
                {"location": "a.txt", "language": "en-us", "dataset": "train", "class": {"category": "B"}}
            ],
        },
    }
    project = read_azure_labels(json.dumps(data).encode("utf-16"))  # any text encoding
    assert project.project_kind == SINGLE_LABEL
    assert project.documents == [AzureDocument("a.txt", "en-us", "Train", ["B"])]


@pytest.mark.parametrize("kind", [SINGLE_LABEL, MULTI_LABEL])
def test_write_then_read_round_trips(kind: str) -> None:
    multi = kind == MULTI_LABEL
    documents = [
        AzureDocument("docs/1.txt", "en-us", "Train", ["Invoice", "Urgent"] if multi else ["Invoice"]),
        AzureDocument("docs/2.txt", "fr-fr", "Test", ["Contract"]),
        AzureDocument("docs/3.txt", "en-us", None, []),
    ]
    data = write_azure_labels(
        "Contracts",
        kind,
        "en-us",
        ["Invoice", "Contract", "Urgent"],
        documents,
        description="Exported from Classifier Studio",
        storage_input_container_name="c",
    )
    payload = json.loads(data)
    assert payload["projectFileVersion"] == "2022-05-01"
    assert payload["metadata"]["projectKind"] == payload["assets"]["projectKind"] == kind
    first = payload["assets"]["documents"][0]
    if multi:
        assert first["classes"] == [{"category": "Invoice"}, {"category": "Urgent"}]
    else:
        assert first["class"] == {"category": "Invoice"} and "classes" not in first
    project = read_azure_labels(data)
    assert project.documents == documents
    assert project.classes == ["Invoice", "Contract", "Urgent"]
    assert (project.project_name, project.language, project.description) == (
        "Contracts",
        "en-us",
        "Exported from Classifier Studio",
    )
    again = write_azure_labels(
        project.project_name,
        project.project_kind,
        project.language,
        project.classes,
        project.documents,
        description=project.description,
        storage_input_container_name=project.storage_input_container_name,
    )
    assert again == data


def test_write_accepts_mappings_and_short_kinds() -> None:
    data = write_azure_labels("p", "multi", "en", ["A"], [{"location": "x.txt", "classes": ["A"]}])
    assert read_azure_labels(data).documents == [AzureDocument("x.txt", "en", None, ["A"])]
    with pytest.raises(ValueError):
        write_azure_labels("p", "single", "en", ["A", "B"], [{"location": "x.txt", "classes": ["A", "B"]}])
    with pytest.raises(ValueError):
        write_azure_labels("p", "single", "en", ["A"], [{"location": "x.txt", "classes": ["Z"]}])
    with pytest.raises(ValueError):
        write_azure_labels("p", "binary", "en", [], [])


def test_invalid_files_list_every_problem() -> None:
    bad = {
        "projectFileVersion": "2022-05-01",
        "metadata": {"projectKind": "CustomEntityRecognition", "language": "en"},
        "assets": {
            "classes": [{"category": "A"}, {"category": "A"}, {}],
            "documents": [
                {"location": "a.txt", "dataset": "Validation", "classes": [{"category": "Z"}]},
                {"language": "en"},
                {"location": "a.txt"},
            ],
        },
    }
    with pytest.raises(InvalidLabelsFile) as info:
        read_azure_labels(json.dumps(bad).encode())
    error = info.value
    assert isinstance(error, Rejected) and error.reason == "corrupt"
    text = " | ".join(error.problems)
    for expected in (
        "projectKind",
        "projectName",
        "listed twice",
        "no 'category'",
        "Validation",
        "'Z'",
        "no 'location'",
    ):
        assert expected in text, expected
    assert error.message.startswith("The Azure labels file is not valid:")
    assert pickle.loads(pickle.dumps(error)).problems == error.problems


def test_not_json_and_not_text() -> None:
    with pytest.raises(InvalidLabelsFile):
        read_azure_labels(b"{not json")
    with pytest.raises(InvalidLabelsFile):
        read_azure_labels(b"[]")
    with pytest.raises(Rejected) as info:
        read_azure_labels(bytes(range(256)) * 4)
    assert info.value.reason == "undecodable"


def test_single_label_document_with_two_classes_is_invalid() -> None:
    data = json.loads(json.dumps(AZURE_MULTI))
    data["metadata"]["projectKind"] = data["assets"]["projectKind"] = SINGLE_LABEL
    with pytest.raises(InvalidLabelsFile, match="single-label"):
        read_azure_labels(json.dumps(data).encode())


def test_pairing_with_an_uploaded_zip() -> None:
    project = read_azure_labels(json.dumps(AZURE_MULTI).encode())
    # The user zipped the container folder: paths gain a top folder and one name differs in case.
    upload = build_zip(
        {
            "movies/film1.txt": b"A funny, sad film.",
            "movies/FILM2.TXT": b"Scary.",
            "movies/extra.txt": b"Not in the labels file.",
        }
    )
    files = {m.path: m.data for m in iter_archive("movies.zip", upload)}
    pairing = pair_azure_documents(project, files)
    assert [(doc.location, key) for doc, key, _ in pairing.matched] == [
        ("film1.txt", "movies/film1.txt"),
        ("film2.txt", "movies/FILM2.TXT"),
    ]
    assert pairing.missing == ["film3.txt"] and pairing.unlisted == ["movies/extra.txt"]
    doc, _key, data = pairing.matched[0]
    assert extract(doc.location, data).text == "A funny, sad film."


def test_pairing_ambiguous_base_names_are_not_guessed() -> None:
    project = read_azure_labels(write_azure_labels("p", "multi", "en", ["A"], [{"location": "a.txt"}]))
    pairing = pair_azure_documents(project, {"x/a.txt": b"1", "y/a.txt": b"2"})
    assert pairing.ambiguous == ["a.txt"] and not pairing.matched
    exact = pair_azure_documents(project, {"a.txt": b"0", "y/a.txt": b"2"})
    assert exact.matched[0][1] == "a.txt"
