"""Document ingestion for Classifier Studio: pure Python, no Django.

Turn uploaded files into text (``extract``), unpack zip uploads safely (``iter_archive``),
read bulk imports (``read_csv``, ``read_jsonl``) and Azure custom text classification labels
files (``read_azure_labels`` / ``write_azure_labels`` / ``pair_azure_documents``). Every
problem with a file is a ``Rejected(reason, message)``; see ``Reason`` for the codes.
Usable from views, django-q2 tasks and management commands alike.
"""

from .archive import ARCHIVE_EXTENSIONS, ArchiveMember, RejectedMember, is_archive, iter_archive
from .azure import (
    MULTI_LABEL,
    PROJECT_FILE_VERSION,
    SINGLE_LABEL,
    AzureDocument,
    AzurePairing,
    AzureProject,
    InvalidLabelsFile,
    pair_azure_documents,
    read_azure_labels,
    write_azure_labels,
)
from .core import SUPPORTED_EXTENSIONS, extension, extract
from .errors import REASONS, Reason, Rejected
from .limits import DEFAULT_LIMITS, Limits
from .results import Extracted
from .tabular import (
    TABULAR_EXTENSIONS,
    RejectedRow,
    TabularRow,
    csv_columns,
    is_tabular,
    jsonl_fields,
    read_csv,
    read_jsonl,
)
from .text import decode_text, html_to_text, normalise_for_duplicates, sha256_hex

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "DEFAULT_LIMITS",
    "MULTI_LABEL",
    "PROJECT_FILE_VERSION",
    "REASONS",
    "SINGLE_LABEL",
    "SUPPORTED_EXTENSIONS",
    "TABULAR_EXTENSIONS",
    "ArchiveMember",
    "AzureDocument",
    "AzurePairing",
    "AzureProject",
    "Extracted",
    "InvalidLabelsFile",
    "Limits",
    "Reason",
    "Rejected",
    "RejectedMember",
    "RejectedRow",
    "TabularRow",
    "csv_columns",
    "decode_text",
    "extension",
    "extract",
    "html_to_text",
    "is_archive",
    "is_tabular",
    "iter_archive",
    "jsonl_fields",
    "normalise_for_duplicates",
    "pair_azure_documents",
    "read_azure_labels",
    "read_csv",
    "read_jsonl",
    "sha256_hex",
    "write_azure_labels",
]
