"""A tiny OLE2 compound-file writer, so tests can build real .msg and encrypted .docx files.

olefile only reads. This writes version-3 files (512-byte sectors) with storages, streams,
a mini stream for streams under 4096 bytes, and one FAT (no DIFAT: fine up to ~7 MB).
``build_ole({"a/b": b"data", "top": b"..."})``: a "/" in a name creates storages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(entry: _Entry) -> tuple[int, str]:
    # The compound-file red-black trees order names by length, then upper-cased.
    return (len(entry.name), entry.name.upper())


def _tree(children: list[_Entry]) -> int:
    """Link siblings as a balanced binary tree (all black is valid); return the root sid."""
    if not children:
        return NOSTREAM
    ordered = sorted(children, key=_sort_key)
    mid = len(ordered) // 2
    root = ordered[mid]
    root.left = _tree(ordered[:mid])
    root.right = _tree(ordered[mid + 1 :])
    return root.sid


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN


def build_ole(streams: dict[str, bytes]) -> bytes:
    root = _Entry("Root Entry", 5)
    for path, data in streams.items():
        node = root
        parts = path.split("/")
        for part in parts[:-1]:
            found = next((c for c in node.children if c.name == part), None)
            if found is None:
                found = _Entry(part, 1)
                node.children.append(found)
            node = found
        node.children.append(_Entry(parts[-1], 2, data=data))

    entries: list[_Entry] = []

    def number(node: _Entry) -> None:
        node.sid = len(entries)
        entries.append(node)
        for c in node.children:
            number(c)

    number(root)
    for node in entries:
        node.child = _tree(node.children)

    # Mini stream: small streams packed in 64-byte mini sectors.
    mini_stream = bytearray()
    minifat: list[int] = []
    big: list[_Entry] = []
    for node in entries:
        if node.kind != 2:
            continue
        node.size = len(node.data)
        if node.size == 0:
            node.start = ENDOFCHAIN
        elif node.size < CUTOFF:
            first = len(mini_stream) // MINI
            count = -(-node.size // MINI)
            mini_stream += node.data + b"\x00" * (count * MINI - node.size)
            minifat.extend(first + i + 1 if i < count - 1 else ENDOFCHAIN for i in range(count))
            node.start = first
        else:
            big.append(node)

    sectors: list[bytes] = []
    fat_entries: list[int] = []

    def add(blob: bytes) -> int:
        if not blob:
            return ENDOFCHAIN
        start = len(sectors)
        count = -(-len(blob) // SECTOR)
        padded = blob + b"\x00" * (count * SECTOR - len(blob))
        for i in range(count):
            sectors.append(padded[i * SECTOR : (i + 1) * SECTOR])
        fat_entries.extend([0] * count)
        _chain(fat_entries, start, count)
        return start

    for node in big:
        node.start = add(node.data)
    root.start = add(bytes(mini_stream))
    root.size = len(mini_stream)
    minifat_blob = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_start = add(minifat_blob)
    minifat_count = -(-len(minifat_blob) // SECTOR)

    while len(entries) % 4:
        entries.append(_Entry("", 0))
    dir_blob = bytearray()
    for node in entries:
        name = node.name.encode("utf-16-le")
        name_len = len(name) + 2 if node.name else 0
        dir_blob += name.ljust(64, b"\x00")
        dir_blob += struct.pack("<HBB", name_len, node.kind, 1)
        if node.kind == 0:
            dir_blob += struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)
        else:
            dir_blob += struct.pack("<III", node.left, node.right, node.child)
        dir_blob += b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16
        start = node.start if node.kind in (2, 5) else 0
        if node.kind in (2, 5) and node.size == 0:
            start = ENDOFCHAIN
        dir_blob += struct.pack("<IQ", start, node.size if node.kind in (2, 5) else 0)
    dir_start = add(bytes(dir_blob))

    # FAT sectors come last; they must also describe themselves.
    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("file too large for this tiny writer (no DIFAT)")
    fat_start = len(sectors)
    fat_entries.extend([FATSECT] * n_fat)
    fat_entries.extend([FREESECT] * (n_fat * (SECTOR // 4) - len(fat_entries)))
    fat_blob = b"".join(struct.pack("<I", v) for v in fat_entries)
    for i in range(n_fat):
        sectors.append(fat_blob[i * SECTOR : (i + 1) * SECTOR])

    difat = [fat_start + i for i in range(n_fat)] + [FREESECT] * (109 - n_fat)
    header = bytearray()
    header += MAGIC + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header += b"\x00" * 6
    header += struct.pack(
        "<IIIIIIIII",
        0,
        n_fat,
        dir_start,
        0,
        CUTOFF,
        minifat_start if minifat else ENDOFCHAIN,
        minifat_count,
        ENDOFCHAIN,
        0,
    )
    header += b"".join(struct.pack("<I", v) for v in difat)
    assert len(header) == SECTOR
    return bytes(header) + b"".join(sectors)


# --- Outlook .msg ------------------------------------------------------------------------------


def _filetime(dt) -> int:
    from datetime import UTC, datetime

    delta = dt - datetime(1601, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def build_msg(
    subject: str,
    body: str,
    sender_name: str = "",
    sender_email: str = "",
    to: str = "",
    sent=None,
    created=None,
    modified=None,
    attachments: list[tuple[str, str, bytes]] = (),
    unicode: bool = True,
    html_body: bytes | None = None,
) -> bytes:
    """A minimal Outlook message. ``unicode=False`` stores 8-bit (001E) strings in cp1252."""
    kind = "001F" if unicode else "001E"

    def s(value: str) -> bytes:
        return value.encode("utf-16-le") if unicode else value.encode("cp1252")

    streams: dict[str, bytes] = {"__substg1.0_001A001F": "IPM.Note".encode("utf-16-le")}
    if subject:
        streams[f"__substg1.0_0037{kind}"] = s(subject)
    if body:
        streams[f"__substg1.0_1000{kind}"] = s(body)
    if html_body is not None:
        streams["__substg1.0_10130102"] = html_body
    if sender_name:
        streams[f"__substg1.0_0C1A{kind}"] = s(sender_name)
    if sender_email:
        streams[f"__substg1.0_5D01{kind}"] = s(sender_email)
    if to:
        streams[f"__substg1.0_0E04{kind}"] = s(to)
    props = bytearray(
        b"\x00" * 8 + struct.pack("<IIII", 1, len(attachments), 1, len(attachments)) + b"\x00" * 8
    )
    for pid, value in ((0x0039, sent), (0x3007, created), (0x3008, modified)):
        if value is not None:
            props += struct.pack("<IIQ", (pid << 16) | 0x0040, 2, _filetime(value))
    if not unicode:
        props += struct.pack("<IIQ", (0x3FFD << 16) | 0x0003, 2, 1252)
    streams["__properties_version1.0"] = bytes(props)
    for i, (name, mime, data) in enumerate(attachments):
        storage = f"__attach_version1.0_#{i:08X}"
        streams[f"{storage}/__substg1.0_3707001F"] = name.encode("utf-16-le")
        streams[f"{storage}/__substg1.0_370E001F"] = mime.encode("utf-16-le")
        streams[f"{storage}/__substg1.0_37010102"] = data
        streams[f"{storage}/__properties_version1.0"] = b"\x00" * 8
    return build_ole(streams)
