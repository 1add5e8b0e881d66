"""Zip archives: unpack uploads safely, member by member.

Everything that can be judged from the central directory is judged *before* any member is
decompressed: entry count, declared sizes, compression ratios, overlapping entries (the
"better zip bomb"), unsafe paths, symlinks, encryption. Reads are capped anyway, because
declared sizes can lie.
"""

from __future__ import annotations

import io
import itertools
import re
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from .errors import Reason, Rejected
from .limits import DEFAULT_LIMITS, Limits

ARCHIVE_EXTENSIONS: frozenset[str] = frozenset({".zip"})

# Files that operating systems drop into archives; reported as skipped junk, never extracted.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".localized"})
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_LOCAL_HEADER_SIZE = 30  # fixed part of a zip local file header


@dataclass(frozen=True)
class ArchiveMember:
    """A file taken out of an archive. ``path`` uses "/" and includes nested archive names
    ("outer folder/inner.zip/report.pdf"); ``modified`` is the entry's time (UTC)."""

    path: str
    data: bytes
    modified: datetime | None = None


@dataclass(frozen=True)
class RejectedMember:
    """An archive entry we did not extract. ``junk`` marks OS metadata (``__MACOSX/``,
    ``.DS_Store``, ``Thumbs.db``...) that the UI may fold away."""

    path: str
    reason: Reason
    message: str
    junk: bool = False


@dataclass
class _Budget:
    """Counts shared by an archive and every archive nested in it."""

    files_left: int
    bytes_left: int


@dataclass(frozen=True)
class _Checked:
    zf: zipfile.ZipFile
    files: list[zipfile.ZipInfo] = field(default_factory=list)


def _ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def is_archive(filename: str) -> bool:
    """True for files that ``iter_archive`` unpacks (by extension: ``.zip``)."""
    return _ext(filename) in ARCHIVE_EXTENSIONS


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MiB"


def _ratio(info: zipfile.ZipInfo) -> float:
    return info.file_size / max(1, info.compress_size)


def declared_entry_count(fileobj: BinaryIO, size: int) -> int | None:
    """Entry count from the end-of-central-directory record (zip64 aware), or None.

    Read before ``zipfile.ZipFile()``, which builds an object per entry: a 50 MB file can
    declare a million empty entries and cost gigabytes before any limit is checked.
    """
    tail_len = min(size, 65536 + 22)
    fileobj.seek(size - tail_len)
    tail = fileobj.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        return None
    count = struct.unpack_from("<H", tail, pos + 10)[0]
    if count == 0xFFFF and pos >= 20 and tail[pos - 20 : pos - 16] == b"PK\x06\x07":
        zip64_offset = struct.unpack_from("<Q", tail, pos - 20 + 8)[0]
        if zip64_offset + 40 <= size:
            fileobj.seek(zip64_offset)
            record = fileobj.read(40)
            if record[:4] == b"PK\x06\x06":
                count = struct.unpack_from("<Q", record, 32)[0]
    return count


def open_zip(source: bytes | BinaryIO, what: str = "archive",
             max_entries: int | None = None) -> tuple[zipfile.ZipFile, int]:
    """Open a zip from bytes or a seekable binary file; ``(ZipFile, size in bytes)``.

    With ``max_entries``, a central directory declaring far more entries is refused as
    ``too_many_files`` before zipfile reads it. Any failure of the zip reader becomes
    ``Rejected("corrupt")``.
    """
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            size = len(source)
            fileobj: BinaryIO = io.BytesIO(bytes(source))
        else:
            fileobj = source
            fileobj.seek(0, io.SEEK_END)
            size = fileobj.tell()
        if max_entries is not None:
            declared = declared_entry_count(fileobj, size)
            # Folder entries count too, hence the margin; check_zip() does the exact count.
            if declared is not None and declared > 2 * max_entries + 1000:
                raise Rejected(Reason.TOO_MANY_FILES, f"The {what} declares {declared:,} entries; at most "
                                                      f"{max_entries:,} files are accepted at once.")
        fileobj.seek(0)
        return zipfile.ZipFile(fileobj), size
    except Rejected:
        raise
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, struct.error...
        raise Rejected(Reason.CORRUPT, f"The {what} is damaged or is not a zip file.") from exc


def check_zip(zf: zipfile.ZipFile, archive_size: int, limits: Limits, *, max_files: int,
              max_total: int, what: str = "archive") -> list[zipfile.ZipInfo]:
    """Whole-archive checks on the central directory; returns the file entries (no dirs).

    Raises ``Rejected`` with too_many_files / zip_bomb / corrupt.
    """
    try:
        infos = zf.infolist()
    except Exception as exc:  # pragma: no cover - infolist is a plain list once opened
        raise Rejected(Reason.CORRUPT, f"The {what} is damaged.") from exc
    files = [i for i in infos if not i.is_dir()]
    if len(files) > max_files:
        raise Rejected(Reason.TOO_MANY_FILES,
                       f"The {what} holds {len(files):,} files; at most {max_files:,} are accepted at once.")
    total = sum(i.file_size for i in files)
    if total > max_total:
        raise Rejected(Reason.ZIP_BOMB,
                       f"The {what} would unpack to {_mib(total)}, more than the {_mib(max_total)} allowed.")
    compressed = sum(i.compress_size for i in files)
    if total >= limits.zip_ratio_min_bytes and total / max(1, compressed) > limits.max_zip_ratio:
        raise Rejected(Reason.ZIP_BOMB,
                       f"The {what} is compressed {total / max(1, compressed):,.0f} times, more than the "
                       f"{limits.max_zip_ratio:,.0f} times we accept; it looks like a zip bomb.")
    # Overlapping entries (several names pointing at the same compressed bytes) are the trick
    # of non-recursive zip bombs; a sound zip gives every entry its own local header + data.
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for prev, nxt in itertools.pairwise(ordered):
        if nxt.header_offset < prev.header_offset + _LOCAL_HEADER_SIZE + prev.compress_size:
            raise Rejected(Reason.ZIP_BOMB,
                           f"The {what} has overlapping entries, a trick used by zip bombs.")
    if ordered:
        last = ordered[-1]
        if last.header_offset + _LOCAL_HEADER_SIZE + last.compress_size > archive_size:
            raise Rejected(Reason.CORRUPT, f"The {what} is truncated or damaged.")
    return files


def _unsafe_reason(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if "\x00" in norm:
        return "its name contains a NUL character"
    if norm.startswith("/"):
        return "it has an absolute path"
    if _DRIVE_RE.match(norm):
        return "its path starts with a drive letter"
    if ".." in norm.split("/"):
        return "its path climbs out of the archive with '..'"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if not parts:
        return False
    base = parts[-1].lower()
    return parts[0] == "__MACOSX" or base in _JUNK_NAMES or base.startswith("._")


def _clean_path(name: str) -> str:
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def entry_modified(info: zipfile.ZipInfo) -> datetime | None:
    """Entry time as an aware UTC datetime.

    Prefers the "extended timestamp" extra field (0x5455, real UTC); the DOS time has no time
    zone and is taken as UTC.
    """
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            try:
                return datetime.fromtimestamp(struct.unpack_from("<i", body, 1)[0], tz=UTC)
            except (OverflowError, OSError, ValueError):
                break
        pos += 4 + size
    try:
        return datetime(*info.date_time, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise Rejected(Reason.ZIP_BOMB, "It unpacks to more data than its header declares.")
    return data


def iter_archive(
    filename: str,
    data_or_fileobj: bytes | BinaryIO,
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
) -> Iterator[ArchiveMember | RejectedMember]:
    """Unpack a zip upload into members to ``extract()`` one by one.

    Whole-archive problems (corrupt, too many files, bomb, empty) raise ``Rejected`` *at
    call time*, before iteration. Per-entry problems are yielded as ``RejectedMember`` and
    the other entries continue. Directories are skipped silently; OS junk is yielded as
    ``RejectedMember(reason="unsupported_type", junk=True)``. Nested ``.zip`` members are
    unpacked in place up to ``limits.max_zip_depth`` levels, sharing one file/size budget.
    """
    zf, size = open_zip(data_or_fileobj, max_entries=limits.max_files_per_batch)
    budget = _Budget(files_left=limits.max_files_per_batch, bytes_left=limits.max_zip_total_bytes)
    files = check_zip(zf, size, limits, max_files=budget.files_left, max_total=budget.bytes_left)
    if not files:
        raise Rejected(Reason.EMPTY_TEXT, "The archive contains no files.")
    return _walk(zf, files, "", limits, depth, budget)


def _walk(zf: zipfile.ZipFile, files: list[zipfile.ZipInfo], prefix: str, limits: Limits,
          depth: int, budget: _Budget) -> Iterator[ArchiveMember | RejectedMember]:
    with zf:
        for info in files:
            yield from _member(zf, info, prefix, limits, depth, budget)


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str, limits: Limits, depth: int,
            budget: _Budget) -> Iterator[ArchiveMember | RejectedMember]:
    name = info.filename
    path = prefix + (_clean_path(name) or name)

    def rejected(reason: Reason, message: str, junk: bool = False) -> RejectedMember:
        budget.files_left -= 1
        return RejectedMember(path, reason, message, junk)

    if budget.files_left <= 0:
        yield RejectedMember(path, Reason.TOO_MANY_FILES,
                             f"Skipped: the upload already holds {limits.max_files_per_batch:,} files.")
        return
    unsafe = _unsafe_reason(name)
    if unsafe:
        yield rejected(Reason.UNSAFE_PATH, f"Refused because {unsafe}.")
        return
    if _is_symlink(info):
        yield rejected(Reason.UNSAFE_PATH, "Refused because it is a symbolic link.")
        return
    if _is_junk(name):
        yield rejected(Reason.UNSUPPORTED_TYPE, "Skipped: operating-system metadata, not a document.", True)
        return
    if info.flag_bits & 0x1:
        yield rejected(Reason.ENCRYPTED, "This file is password-protected inside the archive.")
        return
    if info.file_size > limits.max_file_bytes:
        yield rejected(Reason.TOO_LARGE, f"It is {_mib(info.file_size)} unpacked; the limit per file is "
                                         f"{_mib(limits.max_file_bytes)}.")
        return
    if info.file_size >= limits.zip_ratio_min_bytes and _ratio(info) > limits.max_zip_ratio:
        yield rejected(Reason.ZIP_BOMB, f"It is compressed {_ratio(info):,.0f} times, more than the "
                                        f"{limits.max_zip_ratio:,.0f} times we accept.")
        return
    if info.file_size > budget.bytes_left:
        yield rejected(Reason.ZIP_BOMB, "Skipped: the archive unpacks to more data than allowed in total.")
        return
    try:
        data = _read_capped(zf, info, info.file_size)
    except Rejected as exc:
        yield rejected(exc.reason, exc.message)
        return
    except NotImplementedError:
        yield rejected(Reason.UNSUPPORTED_TYPE, "It is compressed with a method we cannot read.")
        return
    except Exception:  # BadZipFile (bad CRC), zlib.error, EOFError, OSError...
        yield rejected(Reason.CORRUPT, "This entry of the archive is damaged.")
        return
    budget.bytes_left -= len(data)

    if not is_archive(name):
        budget.files_left -= 1
        yield ArchiveMember(path, data, entry_modified(info))
        return

    if depth + 1 > limits.max_zip_depth:
        yield rejected(Reason.TOO_DEEP, f"Archives nested more than {limits.max_zip_depth} levels deep "
                                        f"are not unpacked.")
        return
    try:
        inner, size = open_zip(data, "nested archive", max_entries=budget.files_left)
        inner_files = check_zip(inner, size, limits, max_files=budget.files_left,
                                max_total=budget.bytes_left, what="nested archive")
    except Rejected as exc:
        yield rejected(exc.reason, exc.message)
        return
    if not inner_files:
        yield rejected(Reason.EMPTY_TEXT, "The nested archive contains no files.")
        return
    yield from _walk(inner, inner_files, path + "/", limits, depth + 1, budget)
