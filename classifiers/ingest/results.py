"""What a successful extraction returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Extracted:
    """The text and facts of one file.

    ``content_type`` is the MIME type we determined from the contents (not the browser's).
    ``created`` / ``modified`` are the file's own times (aware, UTC) where the format has them.
    ``metadata`` is JSON-serialisable. ``has_text`` is False only for images without OCR text:
    a "no text" document, not a rejection. ``thumbnail`` is a JPEG (or PNG when the image has
    transparency; see ``metadata["thumbnail_content_type"]``) of at most 256 px, images only.
    """

    text: str
    content_type: str
    created: datetime | None = None
    modified: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    has_text: bool = True
    thumbnail: bytes | None = None
