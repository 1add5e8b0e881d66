"""Outlook ``.msg`` (an OLE2 compound file) read with olefile (BSD; extract-msg is GPL).

MAPI properties live in streams named ``__substg1.0_<tag><type>``: type 001F is UTF-16LE,
001E an 8-bit string in the message code page, 0102 binary. Fixed-size properties (dates,
code page) sit in the 16-byte records of ``__properties_version1.0``. The text is the
subject, a blank line, then the plain body (or the visible text of the HTML body).
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import Reason, Rejected
from ..guard import Deadline
from ..limits import Limits
from ..results import Extracted
from ..sniff import OLE_MAGIC
from ..text import clean_text, decode_declared, decode_text, html_to_text
from .common import mismatch

MSG_TYPE = "application/vnd.ms-outlook"

PR_SUBJECT = "0037"
PR_SENDER_NAME = "0C1A"
PR_SENDER_EMAIL = "0C1F"
PR_SENDER_SMTP = "5D01"
PR_DISPLAY_TO = "0E04"
PR_DISPLAY_CC = "0E03"
PR_BODY = "1000"
PR_HTML = "1013"
PR_MESSAGE_ID = "1035"
PR_ATTACH_LONG_FILENAME = "3707"
PR_ATTACH_FILENAME = "3704"
PR_DISPLAY_NAME = "3001"
PR_ATTACH_MIME_TAG = "370E"
PR_ATTACH_DATA = "3701"

# Fixed-size property ids (in __properties_version1.0)
_PT_LONG = 0x0003
_PT_SYSTIME = 0x0040
_PID_CLIENT_SUBMIT_TIME = 0x0039
_PID_MESSAGE_DELIVERY_TIME = 0x0E06
_PID_CREATION_TIME = 0x3007
_PID_LAST_MODIFICATION_TIME = 0x3008
_PID_MESSAGE_CODEPAGE = 0x3FFD
_PID_INTERNET_CPID = 0x3FDE

_MAX_ATTACHMENTS = 1000
_CODEPAGES = {65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 20127: "ascii", 50220: "iso2022_jp",
              51932: "euc_jp", 52936: "hz", 936: "gbk", 949: "cp949", 950: "cp950", 932: "cp932"}


def _codec(codepage: int | None) -> str | None:
    if codepage is None:
        return None
    if codepage in _CODEPAGES:
        return _CODEPAGES[codepage]
    if 28591 <= codepage <= 28605:
        return f"iso8859-{codepage - 28590}"
    return f"cp{codepage}"


def _filetime(value: int) -> datetime | None:
    # FILETIME: 100 ns ticks since 1601-01-01 UTC; 0 and absurd values mean "unset".
    if value <= 0:
        return None
    try:
        result = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=value // 10)
    except OverflowError:
        return None
    return result if 1971 <= result.year <= 2200 else None


class _Msg:
    """Read access to one message storage (the root, or an embedded message)."""

    def __init__(self, ole: Any, prefix: str = "", header_size: int = 32) -> None:
        self.ole = ole
        self.prefix = prefix
        self.props = self._fixed_properties(header_size)
        cp = self.props.get((_PID_MESSAGE_CODEPAGE, _PT_LONG))
        if cp is None:
            cp = self.props.get((_PID_INTERNET_CPID, _PT_LONG))
        self.codepage = _codec(cp & 0xFFFFFFFF) if isinstance(cp, int) else None

    def _fixed_properties(self, header_size: int) -> dict[tuple[int, int], int]:
        raw = self._read("__properties_version1.0")
        props: dict[tuple[int, int], int] = {}
        if not raw:
            return props
        for pos in range(header_size, len(raw) - 15, 16):
            tag, _flags, value = struct.unpack_from("<IIQ", raw, pos)
            props[(tag >> 16, tag & 0xFFFF)] = value
        return props

    def _read(self, name: str) -> bytes | None:
        path = self.prefix + name
        try:
            if not self.ole.exists(path):
                return None
            with self.ole.openstream(path) as stream:
                return stream.read()
        except Exception:  # a damaged stream loses that property only
            return None

    def string(self, prop: str) -> str | None:
        raw = self._read(f"__substg1.0_{prop}001F")
        if raw is not None:
            text = raw.decode("utf-16-le", errors="replace")
        else:
            raw = self._read(f"__substg1.0_{prop}001E")
            if raw is None:
                return None
            try:
                text = decode_declared(raw.rstrip(b"\x00"), self.codepage)
            except Rejected:
                return None
        text = clean_text(text.rstrip("\x00")).strip()
        return text or None

    def binary(self, prop: str) -> bytes | None:
        return self._read(f"__substg1.0_{prop}0102")

    def time(self, pid: int) -> datetime | None:
        value = self.props.get((pid, _PT_SYSTIME))
        return _filetime(value) if value is not None else None


def _attachments(ole: Any, deadline: Deadline) -> list[dict[str, Any]]:
    storages: set[str] = set()
    for entry in ole.listdir(streams=True, storages=True):
        if entry and entry[0].lower().startswith("__attach_version1.0_#"):
            storages.add(entry[0])
    out: list[dict[str, Any]] = []
    for storage in sorted(storages)[:_MAX_ATTACHMENTS]:
        deadline.check()
        att = _Msg(ole, storage + "/", header_size=8)
        name = (att.string(PR_ATTACH_LONG_FILENAME) or att.string(PR_ATTACH_FILENAME)
                or att.string(PR_DISPLAY_NAME))
        size: int | None = None
        path = f"{storage}/__substg1.0_{PR_ATTACH_DATA}0102"
        try:
            if ole.exists(path):
                size = ole.get_size(path)
        except Exception:
            size = None
        embedded = False
        try:
            embedded = ole.exists(f"{storage}/__substg1.0_{PR_ATTACH_DATA}000D")
        except Exception:
            embedded = False
        content_type = att.string(PR_ATTACH_MIME_TAG) or ("application/vnd.ms-outlook" if embedded else None)
        out.append({"name": name or "(unnamed)", "content_type": content_type, "size": size})
    return out


def extract_msg(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    import olefile

    if not data.startswith(OLE_MAGIC):
        raise mismatch(".msg", data)
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))  # BytesIO: olefile takes short bytes for a *path*
    except Exception as exc:
        raise Rejected(Reason.CORRUPT, "This Outlook message is damaged and could not be read.") from exc
    try:
        with ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                raise Rejected(Reason.TYPE_MISMATCH, "The file is named .msg but is a password-protected "
                                                     "Office document.")
            if not any(e and e[0].lower().startswith("__substg1.0_") for e in ole.listdir()):
                raise Rejected(Reason.TYPE_MISMATCH, "The file is named .msg but is not an Outlook message "
                                                     "(it looks like another Office 97-2003 file).")
            msg = _Msg(ole)
            subject = msg.string(PR_SUBJECT) or ""
            body = msg.string(PR_BODY)
            if not body:
                html = msg.binary(PR_HTML) or (msg.string(PR_HTML) or "").encode("utf-8")
                if html:
                    try:
                        body = html_to_text(decode_text(html))[0]
                    except Rejected:
                        body = None
            deadline.check()
            sender_name = msg.string(PR_SENDER_NAME)
            sender_email = msg.string(PR_SENDER_SMTP) or msg.string(PR_SENDER_EMAIL)
            sent = msg.time(_PID_CLIENT_SUBMIT_TIME) or msg.time(_PID_MESSAGE_DELIVERY_TIME)
            created = msg.time(_PID_CREATION_TIME) or sent
            modified = msg.time(_PID_LAST_MODIFICATION_TIME) or created
            attachments = _attachments(ole, deadline)
            message_id = msg.string(PR_MESSAGE_ID)
            to = msg.string(PR_DISPLAY_TO)
            cc = msg.string(PR_DISPLAY_CC)
    except Rejected:
        raise
    except Exception as exc:  # olefile raises OleFileError/OSError/struct.error on damaged files
        raise Rejected(Reason.CORRUPT, "This Outlook message is damaged and could not be read.") from exc

    if sender_name and sender_email and sender_name != sender_email:
        sender = f"{sender_name} <{sender_email}>"
    else:
        sender = sender_name or sender_email
    metadata: dict[str, Any] = {
        "subject": subject,
        "from": [sender] if sender else [],
        "to": [p.strip() for p in to.split(";") if p.strip()] if to else [],
        "cc": [p.strip() for p in cc.split(";") if p.strip()] if cc else [],
        "date": sent.isoformat() if sent else None,
        "message_id": message_id,
        "attachments": attachments,
    }
    body = (body or "").strip()
    text = f"{subject}\n\n{body}" if subject and body else subject or body
    return Extracted(text=clean_text(text), content_type=MSG_TYPE, created=created, modified=modified,
                     metadata=metadata)
