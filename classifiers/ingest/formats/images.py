"""Images (PNG, JPEG, TIFF) with Pillow: validation, thumbnail and optional OCR.

Pillow's decompression-bomb guard stays on (``Image.MAX_IMAGE_PIXELS`` is never changed);
we enforce the same limit ourselves right after reading the header, before decoding, and
report it as ``zip_bomb`` when the pixels are out of all proportion to the file size (a forged
header) or ``too_large`` for a merely huge image. Without a ``tesseract`` binary an image is
kept with ``has_text=False`` and empty text: a "no text" document, not a rejection.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from typing import Any

from ..errors import Reason, Rejected
from ..guard import Deadline
from ..limits import Limits
from ..results import Extracted
from ..sniff import sniff
from ..text import clean_text
from .common import mismatch

THUMBNAIL_PX = 256
_MAX_FRAMES = 1000  # TIFF pages inspected for the pixel guard (and handed to OCR)
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_DATETIME = 0x0132
_EXIF_IFD = 0x8769

# extension -> (magic kind from sniff, Pillow format, MIME type)
IMAGE_TYPES: dict[str, tuple[str, str, str]] = {
    ".png": ("png", "PNG", "image/png"),
    ".jpg": ("jpeg", "JPEG", "image/jpeg"),
    ".jpeg": ("jpeg", "JPEG", "image/jpeg"),
    ".tif": ("tiff", "TIFF", "image/tiff"),
    ".tiff": ("tiff", "TIFF", "image/tiff"),
}


def _pixel_guard(width: int, height: int, data_len: int, limits: Limits) -> None:
    from PIL import Image

    max_pixels = Image.MAX_IMAGE_PIXELS
    pixels = width * height
    if max_pixels is None or pixels <= max_pixels:
        return
    # ~3 bytes a pixel unpacked: a forged header claims far more than the file could hold.
    if pixels * 3 / max(1, data_len) > limits.max_zip_ratio:
        raise Rejected(Reason.ZIP_BOMB, f"This image claims {width:,} x {height:,} pixels, far more than its "
                                        f"file size could hold; it looks like a decompression bomb.")
    raise Rejected(Reason.TOO_LARGE, f"This image has {width:,} x {height:,} pixels; at most "
                                     f"{max_pixels:,} pixels are accepted.")


def _exif_dates(img: Any) -> tuple[datetime | None, datetime | None]:
    def parse(value: Any) -> datetime | None:
        if not isinstance(value, str):
            return None
        try:  # EXIF times have no zone: taken as UTC
            return datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return None

    try:
        exif = img.getexif()
        original = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL)
        changed = exif.get(_EXIF_DATETIME)
    except Exception:  # broken EXIF must not lose the image
        return None, None
    return parse(original), parse(changed)


def _thumbnail(img: Any) -> tuple[bytes, str]:
    from PIL import Image, ImageOps

    thumb = ImageOps.exif_transpose(img.copy()) or img.copy()
    has_alpha = thumb.mode in ("RGBA", "LA", "PA") or (thumb.mode == "P" and "transparency" in thumb.info)
    thumb = thumb.convert("RGBA" if has_alpha else "RGB")
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if has_alpha:  # JPEG has no transparency
        thumb.save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue(), "image/jpeg"


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def run_ocr(data: bytes, suffix: str, limits: Limits, deadline: Deadline) -> tuple[str | None, str]:
    """Text from the ``tesseract`` binary, with a timeout; ``(text or None, status)``.

    The timeout is also cut to what is left of the extraction's own budget, so a slow OCR
    leaves a "no text" image instead of rejecting the whole file.
    """
    binary = shutil.which("tesseract")
    if binary is None:
        return None, "unavailable"
    timeout = limits.ocr_timeout_seconds
    remaining = deadline.remaining()
    if remaining is not None:
        timeout = min(timeout, remaining - 1.0)
        if timeout <= 0:
            return None, "timeout"
    with tempfile.TemporaryDirectory(prefix="ingest-ocr-") as tmp:
        path = os.path.join(tmp, "image" + suffix)
        with open(path, "wb") as fh:
            fh.write(data)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one core per OCR job; workers run in parallel
        try:
            done = subprocess.run(  # fixed argv, no shell
                [binary, path, "stdout", "-l", limits.ocr_language],
                capture_output=True, timeout=timeout, env=env, check=False,
            )
        except subprocess.TimeoutExpired:
            return None, "timeout"
        except OSError:
            return None, "failed"
    if done.returncode != 0:
        return None, "failed"
    return clean_text(done.stdout.decode("utf-8", errors="replace")).strip(), "done"


def extract_image(ext: str, data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    from PIL import Image

    kind, pil_format, mime = IMAGE_TYPES[ext]
    found = sniff(data)
    if found is None or found[0] != kind:
        raise mismatch(ext, data)
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as probe:
            width, height = probe.size
            _pixel_guard(width, height, len(data), limits)
            frames = int(getattr(probe, "n_frames", 1) or 1)
            if pil_format == "TIFF":  # every TIFF page must pass the guard, not just the first
                for index in range(1, min(frames, _MAX_FRAMES)):
                    deadline.check()
                    probe.seek(index)
                    _pixel_guard(probe.size[0], probe.size[1], len(data), limits)
                probe.seek(0)
            probe.verify()  # structure and checksums, without decoding
        deadline.check()
        with Image.open(io.BytesIO(data), formats=[pil_format]) as img:
            img.load()  # full decode: truncated data fails here
            created, modified = _exif_dates(img)
            mode = img.mode
            try:
                thumbnail, thumb_type = _thumbnail(img)
            except Exception:  # exotic modes (I;16, F) may not convert: no thumbnail
                thumbnail, thumb_type = None, None
    except Rejected:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow refused at open (over twice MAX_IMAGE_PIXELS) before we saw the size.
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        if limit * 3 / max(1, len(data)) > limits.max_zip_ratio:
            raise Rejected(Reason.ZIP_BOMB, "This image claims far more pixels than its file size could "
                                            "hold; it looks like a decompression bomb.") from exc
        raise Rejected(Reason.TOO_LARGE, f"This image has more than {limit:,} pixels, too many to "
                                         f"open safely.") from exc
    except Exception as exc:  # OSError, SyntaxError, struct.error, ValueError, EOFError...
        raise Rejected(Reason.CORRUPT, "This image is damaged or incomplete and could not be read.") from exc

    metadata: dict[str, Any] = {"width": width, "height": height, "format": pil_format, "mode": mode,
                                "thumbnail_content_type": thumb_type}
    if frames > 1:
        metadata["frames"] = frames
    text = ""
    has_text = False
    if ocr_available():
        deadline.check()
        ocr_text, status = run_ocr(data, ext, limits, deadline)
        metadata["ocr"] = status
        if ocr_text:
            if len(ocr_text) > limits.max_text_chars:
                raise Rejected(Reason.TOO_LARGE, f"The text read from this image is longer than "
                                                 f"{limits.max_text_chars:,} characters.")
            text, has_text = ocr_text, True
    else:
        metadata["ocr"] = "unavailable"
    return Extracted(text=text, content_type=mime, created=created, modified=modified, metadata=metadata,
                     has_text=has_text, thumbnail=thumbnail)
