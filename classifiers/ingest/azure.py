"""Azure AI Language custom text classification: the labels file (projectFileVersion 2022-05-01).

Shape (single-label documents carry ``"class": {"category": ...}``, multi-label documents
``"classes": [{"category": ...}, ...]``)::

    {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
     "metadata": {"projectKind": "CustomSingleLabelClassification" | "CustomMultiLabelClassification",
                  "storageInputContainerName": "...", "projectName": "...", "multilingual": false,
                  "description": "...", "language": "en-us", "settings": {}},
     "assets": {"projectKind": "...", "classes": [{"category": "A"}, ...],
                "documents": [{"location": "doc1.txt", "language": "en-us", "dataset": "Train",
                               "class": {"category": "A"}}, ...]}}

The labels file does not contain the texts: ``location`` names a file in the project's blob
container. To import, the user uploads the JSON together with a zip (or several files) of the
documents; ``pair_azure_documents`` matches each ``location`` to an uploaded file, and the
caller runs ``extract(location, data)`` on each pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Reason, Rejected
from .text import decode_text

PROJECT_FILE_VERSION = "2022-05-01"
SINGLE_LABEL = "CustomSingleLabelClassification"
MULTI_LABEL = "CustomMultiLabelClassification"
PROJECT_KINDS = (SINGLE_LABEL, MULTI_LABEL)
_KIND_ALIASES = {"single": SINGLE_LABEL, "single-label": SINGLE_LABEL, "single_label": SINGLE_LABEL,
                 "multi": MULTI_LABEL, "multi-label": MULTI_LABEL, "multi_label": MULTI_LABEL}
_DATASETS = {"train": "Train", "test": "Test"}
_MAX_PROBLEMS_SHOWN = 10


class InvalidLabelsFile(Rejected):
    """A labels file that is not valid JSON of the expected shape; ``problems`` lists each issue."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        extra = len(problems) - _MAX_PROBLEMS_SHOWN
        more = f" (and {extra} more)" if extra > 0 else ""
        super().__init__(Reason.CORRUPT, f"The Azure labels file is not valid: {shown}{more}.")

    def __reduce__(self):
        return (self.__class__, (self.problems,))


@dataclass
class AzureDocument:
    location: str
    language: str | None = None
    dataset: str | None = None  # "Train", "Test" or None (Azure then splits automatically)
    classes: list[str] = field(default_factory=list)


@dataclass
class AzureProject:
    project_kind: str  # SINGLE_LABEL or MULTI_LABEL
    project_name: str
    language: str
    classes: list[str]
    documents: list[AzureDocument]
    multilingual: bool = False
    description: str = ""
    storage_input_container_name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    project_file_version: str = PROJECT_FILE_VERSION
    string_index_type: str = "Utf16CodeUnit"

    @property
    def multi_label(self) -> bool:
        return self.project_kind == MULTI_LABEL


def _kind(value: Any) -> str | None:
    if value in PROJECT_KINDS:
        return value
    if isinstance(value, str):
        return _KIND_ALIASES.get(value.strip().lower())
    return None


def _category(item: Any) -> str | None:
    if isinstance(item, Mapping) and isinstance(item.get("category"), str) and item["category"].strip():
        return item["category"].strip()
    return None


def read_azure_labels(data: bytes) -> AzureProject:
    """Parse and validate a labels file; raises ``InvalidLabelsFile`` (a ``Rejected``) listing
    every problem found, or ``Rejected("undecodable")`` for bytes that are not text."""
    try:
        root = json.loads(decode_text(data))
    except Rejected:
        raise
    except (ValueError, RecursionError) as exc:
        raise InvalidLabelsFile([f"it is not JSON ({exc})"]) from exc
    problems: list[str] = []
    if not isinstance(root, dict):
        raise InvalidLabelsFile(["the top level must be a JSON object"])
    version = root.get("projectFileVersion")
    if not isinstance(version, str) or not version:
        problems.append("'projectFileVersion' is missing")
    metadata = root.get("metadata")
    assets = root.get("assets")
    if not isinstance(metadata, dict):
        problems.append("'metadata' is missing or not an object")
        metadata = {}
    if not isinstance(assets, dict):
        problems.append("'assets' is missing or not an object")
        assets = {}

    kind = _kind(metadata.get("projectKind")) or _kind(assets.get("projectKind"))
    if kind is None:
        problems.append(f"'projectKind' must be {SINGLE_LABEL} or {MULTI_LABEL}")
    elif assets.get("projectKind") not in (None, kind) or metadata.get("projectKind") not in (None, kind):
        problems.append("'metadata.projectKind' and 'assets.projectKind' differ")
    name = metadata.get("projectName")
    if not isinstance(name, str) or not name.strip():
        problems.append("'metadata.projectName' is missing")
        name = ""
    language = metadata.get("language")
    if not isinstance(language, str) or not language.strip():
        problems.append("'metadata.language' is missing")
        language = ""

    classes: list[str] = []
    raw_classes = assets.get("classes", [])
    if not isinstance(raw_classes, list):
        problems.append("'assets.classes' must be a list")
        raw_classes = []
    for i, item in enumerate(raw_classes):
        category = _category(item)
        if category is None:
            problems.append(f"class #{i + 1} has no 'category'")
        elif category in classes:
            problems.append(f"class {category!r} is listed twice")
        else:
            classes.append(category)

    documents: list[AzureDocument] = []
    raw_docs = assets.get("documents", [])
    if not isinstance(raw_docs, list):
        problems.append("'assets.documents' must be a list")
        raw_docs = []
    seen: set[str] = set()
    for i, item in enumerate(raw_docs):
        where = f"document #{i + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where} is not an object")
            continue
        location = item.get("location")
        if not isinstance(location, str) or not location.strip():
            problems.append(f"{where} has no 'location'")
            continue
        where = f"document {location!r}"
        if location in seen:
            problems.append(f"{where} is listed twice")
            continue
        seen.add(location)
        dataset = item.get("dataset")
        if dataset is not None:
            dataset = _DATASETS.get(str(dataset).strip().lower()) if str(dataset).strip() else None
            if dataset is None and str(item.get("dataset")).strip():
                problems.append(f"{where} has dataset {item.get('dataset')!r} (expected Train or Test)")
        doc_classes: list[str] = []
        raw = []
        if "class" in item and item["class"] is not None:
            raw.append(item["class"])
        if isinstance(item.get("classes"), list):
            raw.extend(item["classes"])
        elif item.get("classes") is not None:
            problems.append(f"{where}: 'classes' must be a list")
        for entry in raw:
            category = _category(entry)
            if category is None:
                problems.append(f"{where} has a class without 'category'")
            elif category not in classes:
                problems.append(f"{where} uses class {category!r}, which is not in 'assets.classes'")
            elif category not in doc_classes:
                doc_classes.append(category)
        if kind == SINGLE_LABEL and len(doc_classes) > 1:
            problems.append(f"{where} has {len(doc_classes)} classes in a single-label project")
        doc_language = item.get("language")
        documents.append(AzureDocument(
            location=location,
            language=doc_language if isinstance(doc_language, str) and doc_language else None,
            dataset=dataset,
            classes=doc_classes,
        ))
    if problems:
        raise InvalidLabelsFile(problems)
    settings = metadata.get("settings")
    return AzureProject(
        project_kind=kind or SINGLE_LABEL,
        project_name=name.strip(),
        language=language.strip(),
        classes=classes,
        documents=documents,
        multilingual=bool(metadata.get("multilingual", False)),
        description=metadata.get("description") if isinstance(metadata.get("description"), str) else "",
        storage_input_container_name=str(metadata.get("storageInputContainerName") or ""),
        settings=settings if isinstance(settings, dict) else {},
        project_file_version=str(version),
        string_index_type=str(root.get("stringIndexType") or "Utf16CodeUnit"),
    )


def write_azure_labels(
    project_name: str,
    kind: str,
    language: str,
    classes: Iterable[str],
    documents: Iterable[AzureDocument | Mapping[str, Any]],
    *,
    description: str = "",
    multilingual: bool = False,
    storage_input_container_name: str = "",
    settings: Mapping[str, Any] | None = None,
) -> bytes:
    """A labels file (UTF-8 JSON) that Azure Language Studio and ``read_azure_labels`` import.

    ``kind``: SINGLE_LABEL / MULTI_LABEL or "single" / "multi". ``documents``: ``AzureDocument``
    or mappings with ``location`` and optional ``language``, ``dataset``, ``classes`` (list).
    """
    project_kind = _kind(kind)
    if project_kind is None:
        raise ValueError(f"kind must be {SINGLE_LABEL} or {MULTI_LABEL}, not {kind!r}")
    class_list = list(dict.fromkeys(classes))
    out_docs: list[dict[str, Any]] = []
    for doc in documents:
        if isinstance(doc, Mapping):
            doc = AzureDocument(location=doc["location"], language=doc.get("language"),
                                dataset=doc.get("dataset"), classes=list(doc.get("classes") or []))
        entry: dict[str, Any] = {"location": doc.location, "language": doc.language or language}
        if doc.dataset:
            entry["dataset"] = _DATASETS.get(doc.dataset.lower(), doc.dataset)
        unknown = [c for c in doc.classes if c not in class_list]
        if unknown:
            raise ValueError(f"document {doc.location!r} uses classes not in the project: {unknown}")
        if project_kind == SINGLE_LABEL:
            if len(doc.classes) > 1:
                raise ValueError(f"document {doc.location!r} has several classes in a single-label project")
            if doc.classes:
                entry["class"] = {"category": doc.classes[0]}
        else:
            entry["classes"] = [{"category": c} for c in doc.classes]
        out_docs.append(entry)
    payload = {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": project_kind,
            "storageInputContainerName": storage_input_container_name,
            "projectName": project_name,
            "multilingual": multilingual,
            "description": description,
            "language": language,
            "settings": dict(settings or {}),
        },
        "assets": {
            "projectKind": project_kind,
            "classes": [{"category": c} for c in class_list],
            "documents": out_docs,
        },
    }
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass
class AzurePairing:
    """Result of matching a labels file's documents to uploaded files.

    ``matched``: (document, key of the uploaded file, its bytes); ``missing``: locations with no
    file; ``unlisted``: uploaded files the labels file does not mention; ``ambiguous``:
    locations that several files could match by name alone (not paired, to be safe).
    """

    matched: list[tuple[AzureDocument, str, bytes]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)


def _norm(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts).casefold()


def pair_azure_documents(project: AzureProject, files: Mapping[str, bytes]) -> AzurePairing:
    """Match each document ``location`` to one of ``files`` (path -> bytes, e.g. the
    ``ArchiveMember`` paths of an unpacked zip).

    Tried in order: the same path (ignoring case, "./" and "\\" vs "/"); a unique file whose
    path ends with "/<location>" (the zip had a top folder); a unique file with the same base
    name. A file is used for one document at most.
    """
    by_path: dict[str, str] = {}
    by_suffix: dict[str, list[str]] = {}  # every trailing run of path components -> files
    for key in files:
        norm = _norm(key)
        by_path.setdefault(norm, key)
        parts = norm.split("/")
        for i in range(len(parts)):
            by_suffix.setdefault("/".join(parts[i:]), []).append(key)
    used: set[str] = set()
    result = AzurePairing()
    for doc in project.documents:
        loc = _norm(doc.location)
        key = by_path.get(loc)
        if key is None or key in used:
            key = None
            for probe in (loc, loc.rsplit("/", 1)[-1]):
                candidates = [k for k in by_suffix.get(probe, []) if k not in used]
                if len(candidates) == 1:
                    key = candidates[0]
                    break
                if len(candidates) > 1:
                    break
            else:
                candidates = []
            if key is None and len(candidates) > 1:
                result.ambiguous.append(doc.location)
                continue
        if key is None:
            result.missing.append(doc.location)
            continue
        used.add(key)
        result.matched.append((doc, key, files[key]))
    result.unlisted = [k for k in files if k not in used]
    return result
