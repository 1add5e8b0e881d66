"""Size, count and time limits applied to every upload."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """Limits for one upload. Frozen so a shared default instance cannot be mutated.

    ``max_zip_depth`` counts archives *inside* the uploaded one: with 2, upload.zip may hold
    a.zip which may hold b.zip, but a zip inside b.zip is rejected as ``too_deep``.
    """

    max_file_bytes: int = 50 * MiB
    max_files_per_batch: int = 10_000
    max_zip_total_bytes: int = 2 * GiB
    max_zip_ratio: float = 100.0
    max_zip_depth: int = 2
    max_text_chars: int = 5_000_000  # longer extracted text is rejected as too_large, never cut
    pdf_max_pages: int = 2000
    # Compression ratios are only judged above this size: a 40 KB run of spaces compresses
    # 1000:1 and is harmless, so tiny members are never called bombs.
    zip_ratio_min_bytes: int = 1 * MiB
    # Wall-clock budget of one extraction (PDF pages are checked between pages; in the main
    # thread a SIGALRM also interrupts a single runaway page). 0 disables it.
    timeout_seconds: float = 60.0
    ocr_timeout_seconds: float = 45.0  # also cut to what is left of timeout_seconds
    ocr_language: str = "eng"
    max_tabular_rows: int = 1_000_000  # rows of one CSV / JSONL bulk import


DEFAULT_LIMITS = Limits()
