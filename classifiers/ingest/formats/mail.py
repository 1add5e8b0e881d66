"""E-mail: RFC 822 ``.eml`` with the stdlib ``email`` package.

The text of a message is its subject, a blank line, then its body (text/plain preferred,
else the visible text of text/html): the subject often carries the signal a classifier needs,
and the shared SpamAssassin corpus is built the same way. Attachments are listed in
``metadata["attachments"]`` (name, type, size) but not extracted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from ..errors import Reason, Rejected
from ..guard import Deadline
from ..limits import Limits
from ..results import Extracted
from ..sniff import sniff
from ..text import clean_text, decode_declared, html_to_text
from .common import mismatch

_MAX_PARTS = 1000  # MIME parts walked per message; more is abuse, not mail


def _header(msg: Message, name: str) -> str | None:
    """A header as text; policy.default parsing can raise on malformed headers, so fall back
    to the raw value."""
    try:
        value = msg.get(name)
        if value is None:
            return None
        text = str(value)
    except Exception:
        raw = [v for k, v in getattr(msg, "raw_items", lambda: [])() if k.lower() == name.lower()]
        if not raw:
            return None
        text = str(raw[0])
    text = " ".join(clean_text(text).split())
    return text or None


def _date(msg: Message) -> datetime | None:
    raw = _header(msg, "date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
    except Exception:  # TypeError/ValueError/IndexError on junk dates
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _addresses(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        pairs = getaddresses([value])
    except Exception:
        return [value]
    out = []
    for name, addr in pairs:
        if addr and name:
            out.append(f"{name} <{addr}>")
        elif addr or name:
            out.append(addr or name)
    return out


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes) or not payload:
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    try:
        text = decode_declared(payload, charset)
    except Rejected:
        return ""  # a binary part mislabelled as text: skip it, not the whole message
    if part.get_content_type() == "text/html":
        text, _title = html_to_text(text)
    return text


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return clean_text(str(name)).strip() if name else None


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    return disposition == "attachment" or _filename(part) is not None


def parse_email(data: bytes, deadline: Deadline) -> tuple[dict[str, Any], str, datetime | None]:
    """``(metadata, text, date)`` of an RFC 822 message. Shared with archives of mail."""
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[assignment]
    subject = _header(msg, "subject") or ""
    date = _date(msg)

    body_parts: list[str] = []
    attachments: list[dict[str, Any]] = []
    plain: list[Message] = []
    html: list[Message] = []
    for index, part in enumerate(msg.walk()):
        deadline.check()
        if index >= _MAX_PARTS:
            break
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if _is_attachment(part) or ctype == "message/rfc822":
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                payload = None
            attachments.append({
                "name": _filename(part) or "(unnamed)",
                "content_type": ctype,
                "size": len(payload) if isinstance(payload, bytes) else None,
            })
        elif ctype == "text/plain":
            plain.append(part)
        elif ctype == "text/html":
            html.append(part)
    # Prefer every text/plain body part (multipart/mixed can hold several); else HTML.
    for part in plain or html:
        text = _part_text(part).strip()
        if text:
            body_parts.append(text)

    metadata: dict[str, Any] = {
        "subject": subject,
        "from": _addresses(_header(msg, "from")),
        "to": _addresses(_header(msg, "to")),
        "cc": _addresses(_header(msg, "cc")),
        "date": date.isoformat() if date else _header(msg, "date"),
        "message_id": _header(msg, "message-id"),
        "attachments": attachments,
    }
    body = "\n\n".join(body_parts)
    text = f"{subject}\n\n{body}" if subject and body else subject or body
    return metadata, clean_text(text).strip(), date


def extract_eml(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    found = sniff(data)
    if found is not None:
        raise mismatch(".eml", data)
    try:
        metadata, text, date = parse_email(data, deadline)
    except Rejected:
        raise
    except Exception as exc:  # email is lenient, but header parsing has raised before
        raise Rejected(Reason.CORRUPT, "This e-mail could not be read.") from exc
    if not text.strip() and data.strip() and not metadata["subject"]:
        # Nothing recognisable came out of non-empty bytes: say why if they are not text.
        from ..text import decode_text

        decode_text(data)  # raises undecodable for binary garbage
    return Extracted(text=text, content_type="message/rfc822", created=date, modified=date, metadata=metadata)
