"""Text decoding, HTML to text, duplicate keys, the Rejected type itself."""

from __future__ import annotations

import pickle

import pytest

from classifiers.ingest import (
    REASONS,
    Reason,
    Rejected,
    decode_text,
    extract,
    html_to_text,
    normalise_for_duplicates,
    sha256_hex,
)

FRENCH = "Le comité a examiné la déclaration de conformité ; les écarts relevés sont mineurs. " * 3


def test_utf8_and_bom_variants() -> None:
    text = "Grüße aus Köln – 東京"  # noqa: RUF001
    assert decode_text(text.encode("utf-8")) == text
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_text(text.encode("utf-16")) == text  # BOM + native order
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be")) == text
    assert decode_text(text.encode("utf-32")) == text


def test_utf16_without_bom() -> None:
    assert decode_text("Plain words in UTF-16 without a BOM.".encode("utf-16-le")) == (
        "Plain words in UTF-16 without a BOM."
    )


def test_latin1_and_cp1252() -> None:
    assert decode_text(FRENCH.encode("latin-1")) == FRENCH
    assert decode_text("Price: 10 € – “quoted”".encode("cp1252")) == "Price: 10 € – “quoted”"  # noqa: RUF001


def test_mostly_utf8_with_one_broken_byte_stays_utf8() -> None:
    data = ("Grüße " * 20).encode("utf-8") + b"\xff" + " Köln".encode()
    assert decode_text(data).startswith("Grüße Grüße")


def test_newlines_nuls_and_controls_are_normalised() -> None:
    assert decode_text(b"a\r\nb\rc\nd\x00e\x07f") == "a\nb\nc\ndef"


def test_binary_garbage_is_undecodable() -> None:
    garbage = bytes(range(256)) * 8
    with pytest.raises(Rejected) as info:
        decode_text(garbage)
    assert info.value.reason == "undecodable"
    with pytest.raises(Rejected):
        decode_text(b"\x00\x01\x02\x03" * 100)


def test_bom_with_invalid_body_is_undecodable() -> None:
    with pytest.raises(Rejected) as info:
        decode_text(b"\xef\xbb\xbf\xff\xfe\xfd")
    assert info.value.reason == Reason.UNDECODABLE


def test_html_visible_text_only() -> None:
    html = """<!doctype html><html><head><title>Quarterly</title><style>p{color:red}</style>
    <script>var secret = "do not index";</script></head>
    <body><h1>Results</h1><p>Revenue   rose
    by <b>5%</b>.</p><noscript>enable js</noscript><template><p>tmpl</p></template>
    <div hidden>hidden text</div><p style="display: none">invisible</p>
    <ul><li>one<li>two</ul><table><tr><th>Q1<th>Q2<tr><td>10<td>12</table>
    <pre>keep
  this</pre>&amp; entities &eacute;</body></html>"""
    text, title = html_to_text(html)
    assert title == "Quarterly"
    for hidden in ("do not index", "color:red", "enable js", "tmpl", "hidden text", "invisible", "Quarterly"):
        assert hidden not in text
    assert "Results\n" in text
    assert "Revenue rose by 5%." in text
    assert "one\ntwo" in text
    assert "Q1\tQ2\n10\t12" in text
    assert "keep\n  this" in text
    assert text.endswith("& entities é")


def test_html_unclosed_script_and_head_do_not_leak_or_swallow() -> None:
    text, _ = html_to_text("<head><title>x</title><body><p>Visible</p><script>alert(1)")
    assert text == "Visible"


def test_html_file_with_meta_charset() -> None:
    data = '<html><head><meta charset="iso-8859-1"></head><body>Café “ok”</body></html>'.encode("cp1252")
    assert extract("page.htm", data).text == "Café “ok”"


def test_normalise_for_duplicates_and_sha256() -> None:
    assert normalise_for_duplicates("  Hello\n\tWORLD  ") == normalise_for_duplicates("hello world")
    assert normalise_for_duplicates("Straße ﬁle") == "strasse file"
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex("abc") == sha256_hex(b"abc")


def test_rejected_validates_reason_pickles_and_reads_well() -> None:
    assert {
        "unsupported_type",
        "type_mismatch",
        "empty_text",
        "too_large",
        "encrypted",
        "corrupt",
        "unsafe_path",
        "zip_bomb",
        "too_deep",
        "too_many_files",
        "undecodable",
    } == REASONS
    exc = Rejected("corrupt", "The file is damaged.")
    assert str(exc) == "The file is damaged."
    again = pickle.loads(pickle.dumps(exc))
    assert (again.reason, again.message) == ("corrupt", "The file is damaged.")
    with pytest.raises(ValueError):
        Rejected("nope", "x")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Le comité a examiné la déclaration ; œuvre, cœur, « guillemets ».", "cp1252"),
        ("Grüße aus Köln, schöne Größe.", "latin-1"),
        ("café", "latin-1"),
        ("Привет, как дела? Это тестовый документ о соответствии требованиям.", "cp1251"),  # noqa: RUF001
        ("Zażółć gęślą jaźń. Dokument dotyczy zgodności z przepisami prawa.", "cp1250"),
    ],
)
def test_legacy_encodings(text: str, encoding: str) -> None:
    from classifiers.ingest import text as text_module

    if encoding in ("cp1251", "cp1250") and text_module.charset_normalizer is None:
        pytest.skip("telling Cyrillic/Central European encodings apart needs charset-normalizer")
    assert decode_text(text.encode(encoding)) == text
