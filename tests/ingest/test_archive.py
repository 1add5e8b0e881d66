"""Zip uploads: members, junk, traversal, bombs, nesting, encryption, corruption."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from datetime import UTC, datetime

import pytest

from classifiers.ingest import (
    ArchiveMember,
    Limits,
    Rejected,
    RejectedMember,
    extract,
    is_archive,
    is_tabular,
    iter_archive,
)

from .builders import build_docx, build_zip

MiB = 1024 * 1024


def members(data: bytes, limits: Limits | None = None) -> dict[str, ArchiveMember | RejectedMember]:
    return {m.path: m for m in iter_archive("upload.zip", data, limits or Limits())}


def whole_rejection(data: bytes, limits: Limits | None = None) -> Rejected:
    with pytest.raises(Rejected) as info:
        iter_archive("upload.zip", data, limits or Limits())  # raises at call time, before iterating
    return info.value


def test_is_archive_and_is_tabular() -> None:
    assert is_archive("Upload.ZIP") and is_archive("a/b/c.zip") and not is_archive("a.docx")
    assert (
        is_tabular("rows.csv") and is_tabular("x.TSV") and is_tabular("a.jsonl") and not is_tabular("a.json")
    )


def test_members_paths_and_times() -> None:
    data = build_zip({"docs/": b"", "docs/a.txt": b"alpha", "b.md": b"# beta", "./c/./d.txt": b"delta"})
    found = members(data)
    assert set(found) == {"docs/a.txt", "b.md", "c/d.txt"}  # the directory is skipped silently
    member = found["docs/a.txt"]
    assert isinstance(member, ArchiveMember) and member.data == b"alpha"
    assert member.modified == datetime(2023, 4, 5, 6, 7, 8, tzinfo=UTC)
    assert extract(member.path, member.data, modified=member.modified).modified == member.modified


def test_accepts_a_file_object(tmp_path) -> None:
    path = tmp_path / "u.zip"
    path.write_bytes(build_zip({"a.txt": b"alpha"}))
    with open(path, "rb") as fh:
        assert [m.path for m in iter_archive("u.zip", fh)] == ["a.txt"]


def test_unsafe_paths_are_rejected_and_the_rest_continue() -> None:
    data = build_zip(
        {
            "../evil.txt": b"x",
            "/etc/passwd": b"x",
            "C:/Windows/x.txt": b"x",
            "ok/../../up.txt": b"x",
            "..\\win.txt": b"x",
            "fine.txt": b"fine",
        }
    )
    found = members(data)
    assert isinstance(found["fine.txt"], ArchiveMember)
    unsafe = [m for m in found.values() if isinstance(m, RejectedMember)]
    assert len(unsafe) == 5 and {m.reason for m in unsafe} == {"unsafe_path"}


def test_symlink_entries_are_unsafe() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        link = zipfile.ZipInfo("link.txt")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("ok.txt", "ok")
    found = members(out.getvalue())
    assert found["link.txt"].reason == "unsafe_path" and isinstance(found["ok.txt"], ArchiveMember)


def test_os_junk_is_reported_as_skipped() -> None:
    data = build_zip(
        {
            "__MACOSX/._a.txt": b"\x00\x05\x16\x07",
            ".DS_Store": b"\x00\x00\x00\x01Bud1",
            "sub/Thumbs.db": b"x",
            "a.txt": b"real",
        }
    )
    found = members(data)
    junk = [m for m in found.values() if isinstance(m, RejectedMember)]
    assert len(junk) == 3 and all(m.junk and m.reason == "unsupported_type" for m in junk)
    assert isinstance(found["a.txt"], ArchiveMember)


def test_whole_archive_zip_bomb_by_ratio() -> None:
    error = whole_rejection(build_zip({"zeros.txt": b"\x00" * (8 * MiB)}))
    assert error.reason == "zip_bomb" and "compressed" in error.message


def test_member_zip_bomb_by_ratio_while_the_rest_continue() -> None:
    data = build_zip(
        {"bomb.txt": b"a" * (2 * MiB), "noise.bin": random.Random(0).randbytes(300_000), "ok.txt": b"ok"}
    )
    found = members(data, Limits(zip_ratio_min_bytes=64 * 1024, max_zip_ratio=100))
    assert found["bomb.txt"].reason == "zip_bomb"
    assert isinstance(found["ok.txt"], ArchiveMember)


def test_total_declared_size_limit() -> None:
    data = build_zip({"a.txt": b"x" * 600, "b.txt": b"y" * 600}, compression=zipfile.ZIP_STORED)
    assert whole_rejection(data, Limits(max_zip_total_bytes=1000)).reason == "zip_bomb"


def test_member_too_large() -> None:
    data = build_zip({"big.txt": b"x" * 200, "small.txt": b"x"}, compression=zipfile.ZIP_STORED)
    found = members(data, Limits(max_file_bytes=100))
    assert found["big.txt"].reason == "too_large" and isinstance(found["small.txt"], ArchiveMember)


def test_too_many_files() -> None:
    data = build_zip({f"f{i}.txt": b"x" for i in range(5)})
    assert whole_rejection(data, Limits(max_files_per_batch=4)).reason == "too_many_files"
    assert len(members(data, Limits(max_files_per_batch=5))) == 5


def _nest(inner: bytes, levels: int) -> bytes:
    for level in range(levels):
        inner = build_zip({f"level{level}.zip": inner, f"note{level}.txt": b"note"})
    return inner


def test_nested_archives_up_to_the_depth_limit() -> None:
    # upload.zip > level1.zip > level0.zip > deep.txt : two nested levels, allowed with depth 2.
    data = _nest(build_zip({"deep.txt": b"deep"}), 2)
    found = members(data, Limits(max_zip_depth=2))
    assert isinstance(found["level1.zip/level0.zip/deep.txt"], ArchiveMember)
    assert isinstance(found["level1.zip/note0.txt"], ArchiveMember)
    # One level more is too deep; the other files at the allowed levels still come through.
    found = members(_nest(build_zip({"deep.txt": b"deep"}), 3), Limits(max_zip_depth=2))
    assert found["level2.zip/level1.zip/level0.zip"].reason == "too_deep"
    assert isinstance(found["level2.zip/level1.zip/note0.txt"], ArchiveMember)


def test_nested_budget_is_shared() -> None:
    inner = build_zip({f"i{i}.txt": b"x" for i in range(4)})
    found = members(build_zip({"inner.zip": inner, "a.txt": b"a"}), Limits(max_files_per_batch=3))
    assert found["inner.zip"].reason == "too_many_files"


def _set_flag_bits(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    pos = out.find(b"PK\x03\x04")
    while pos != -1:
        struct.pack_into("<H", out, pos + 6, struct.unpack_from("<H", out, pos + 6)[0] | bit)
        pos = out.find(b"PK\x03\x04", pos + 4)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<H", out, pos + 8, struct.unpack_from("<H", out, pos + 8)[0] | bit)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def test_encrypted_entries() -> None:
    found = members(_set_flag_bits(build_zip({"secret.txt": b"x" * 50}), 0x1))
    assert found["secret.txt"].reason == "encrypted"


def test_corrupt_archives() -> None:
    assert whole_rejection(b"PK\x03\x04" + random.Random(1).randbytes(200)).reason == "corrupt"
    assert whole_rejection(b"not a zip at all").reason == "corrupt"
    data = build_zip({"a.txt": b"hello" * 100})
    assert whole_rejection(data[: len(data) - 30]).reason == "corrupt"
    assert whole_rejection(build_zip({})).reason == "empty_text"


def test_corrupt_member_data_is_a_member_rejection() -> None:
    data = bytearray(build_zip({"a.txt": b"hello world " * 100, "b.txt": b"fine"}))
    start = data.find(b"PK\x03\x04") + 30 + len("a.txt")
    data[start + 10 : start + 20] = b"\xff" * 10  # damage the deflate stream
    found = members(bytes(data))
    assert found["a.txt"].reason == "corrupt" and isinstance(found["b.txt"], ArchiveMember)


def test_lying_declared_size_is_caught() -> None:
    # The central directory says 10 bytes; the data inflates to 1000: never more than declared.
    data = bytearray(build_zip({"a.txt": b"z" * 1000}))
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 10)
    found = members(bytes(data))
    assert found["a.txt"].reason in ("corrupt", "zip_bomb")


def _overlapping_zip() -> bytes:
    """Two central-directory entries pointing at the same local file (Fifield's bomb trick)."""
    data = build_zip({"a.txt": b"A" * 1000})
    cd = data.find(b"PK\x01\x02")
    eocd = data.find(b"PK\x05\x06")
    entry = data[cd:eocd]
    twin = entry.replace(b"a.txt", b"b.txt")
    new_cd = entry + twin
    tail = bytearray(data[eocd:])
    struct.pack_into("<HHII", tail, 8, 2, 2, len(new_cd), cd)
    return data[:cd] + new_cd + bytes(tail)


def test_overlapping_entries_are_a_zip_bomb() -> None:
    assert whole_rejection(_overlapping_zip()).reason == "zip_bomb"


def test_docx_inside_a_zip_is_a_member_not_an_archive() -> None:
    found = members(build_zip({"c.docx": build_docx(["Inside"])}))
    assert extract("c.docx", found["c.docx"].data).text == "Inside"


def test_entry_count_is_checked_before_zipfile_reads_the_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    data = build_zip({f"f{i}.txt": b"" for i in range(1100)}, compression=zipfile.ZIP_STORED)

    def no_zipfile(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile must not be reached")

    monkeypatch.setattr(zipfile, "ZipFile", no_zipfile)
    assert whole_rejection(data, Limits(max_files_per_batch=10)).reason == "too_many_files"


def test_declared_entry_count_reads_zip64_records() -> None:
    from classifiers.ingest.archive import declared_entry_count

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(70_000):  # over 65,535 entries: zipfile writes zip64 end records
            zf.writestr(f"{i}", b"")
    data = out.getvalue()
    assert declared_entry_count(io.BytesIO(data), len(data)) == 70_000
