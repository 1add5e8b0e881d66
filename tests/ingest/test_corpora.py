"""Real mail from the shared SpamAssassin sample, as .eml uploads and inside a zip."""

from __future__ import annotations

from email import message_from_bytes, policy

from classifiers.ingest import ArchiveMember, Rejected, extract, iter_archive
from tests.corpora import load_corpus

from .builders import build_zip


def _raw_messages(limit: int) -> list[bytes]:
    rows = load_corpus("spamassassin-raw-sample", limit=limit)
    return [row["raw"].encode("utf-8", errors="surrogateescape") for row in rows]


def test_spamassassin_messages_as_eml() -> None:
    messages = _raw_messages(60)
    extracted = 0
    for raw in messages:
        try:
            result = extract("message.eml", raw)
        except Rejected as exc:
            assert exc.reason in ("empty_text", "undecodable"), exc
            continue
        extracted += 1
        assert result.content_type == "message/rfc822" and result.text.strip()
        subject = message_from_bytes(raw, policy=policy.compat32).get("Subject")
        if subject and result.metadata["subject"] and subject.isascii():
            assert result.text.startswith(result.metadata["subject"])
        assert "\x00" not in result.text and "\r" not in result.text
    assert extracted >= 0.95 * len(messages)


def test_spamassassin_messages_in_a_zip() -> None:
    messages = _raw_messages(10)
    upload = build_zip({f"mail/{i:03d}.eml": raw for i, raw in enumerate(messages)})
    found = [m for m in iter_archive("mail.zip", upload) if isinstance(m, ArchiveMember)]
    assert len(found) == 10
    texts = [extract(m.path, m.data, modified=m.modified).text for m in found]
    assert all(texts)
