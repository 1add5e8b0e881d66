"""Text decoding, cleaning, HTML-to-text and duplicate keys."""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from html.parser import HTMLParser

from .errors import Reason, Rejected

try:  # optional: pyproject lists it, but the library must work (less well) without it
    import charset_normalizer
except ImportError:  # pragma: no cover - depends on the environment
    charset_normalizer = None

# charset-normalizer looks at a sample: guessing on 50 MB is slow and no more accurate.
_DETECT_SAMPLE_BYTES = 1 * 1024 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# C0/C1 controls except tab and newline; \f and \v become newlines first.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WS_RE = re.compile(r"\s+")


def _undecodable(detail: str = "") -> Rejected:
    msg = "The file does not look like text in any encoding we recognise"
    return Rejected(Reason.UNDECODABLE, f"{msg}{': ' + detail if detail else ''}.")


def clean_text(text: str) -> str:
    """Normalise newlines to ``\\n`` and drop NULs and other control characters.

    NULs break PostgreSQL text columns; other controls only confuse pages and tokenisers.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\f", "\n").replace("\v", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL_RE.sub("", text)


# Characters that do not occur in real text: C0/C1 controls (bar tab, newlines, form feed,
# ESC; NULs are judged by count in decode_text), lone surrogates, U+FFFD.
_BAD_CHARS_RE = re.compile("[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")


def _looks_like_text(text: str) -> bool:
    """False when more than 2% of the decoded string is characters no real text contains."""
    bad = len(_BAD_CHARS_RE.findall(text))
    return bad <= max(1, len(text) * 0.02)


def _utf16_without_bom(data: bytes) -> str | None:
    """Windows tools sometimes write UTF-16 without a BOM: NULs on every other byte."""
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:4096]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    for encoding, nuls, other in (("utf-16-le", odd_nuls, even_nuls), ("utf-16-be", even_nuls, odd_nuls)):
        if nuls >= half * 0.4 and other <= half * 0.05:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (a bad copy-paste) is better read as UTF-8 than guessed."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - broken
    if broken and multibyte >= 10 * broken and broken <= len(text) * 0.001 + 1:
        return text.replace("\ufffd", "")
    return None


def _guesses(sample: bytes) -> list[str]:
    """Encodings to try, best first, for bytes that are not UTF-8.

    charset-normalizer is good at telling Cyrillic from Central European, but on short or
    ambiguous Western text it picks arbitrarily among ties (cp1250 for French, even UTF-16 for
    "Price: 10 €"). So: no UTF-16/32 without a BOM (checked before), and cp1252, by far the most
    common 8-bit encoding of uploaded documents, wins ties and cases without language evidence.
    """
    fallback = ["cp1252", "latin-1"]
    if charset_normalizer is None:
        return fallback
    matches = [m for m in charset_normalizer.from_bytes(sample)
               if not m.encoding.lower().replace("-", "_").startswith(("utf_16", "utf_32"))]
    if not matches:
        return fallback
    best = matches[0]
    try:
        sample.decode("cp1252")
        cp1252_ok = True
    except UnicodeDecodeError:
        cp1252_ok = False
    if cp1252_ok:
        tie = any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.01
                  and m.coherence >= best.coherence - 0.1 for m in matches)
        if tie or best.coherence == 0:
            return fallback
    return [m.encoding for m in matches] + fallback


def _detect(data: bytes) -> str | None:
    sample = data[:_DETECT_SAMPLE_BYTES]
    if len(data) > len(sample):  # cut at a line end, not inside a multi-byte character
        cut = sample.rfind(b"\n")
        if cut > len(sample) // 2:
            sample = sample[: cut + 1]
    for encoding in _guesses(sample):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return None  # pragma: no cover - latin-1 decodes everything


def decode_text(data: bytes) -> str:
    """Decode uploaded bytes to clean text, or raise ``Rejected("undecodable")``.

    Order: BOM (UTF-8/16/32), BOM-less UTF-16, UTF-8, mostly-UTF-8, then charset-normalizer's
    best guess (cp1252/latin-1 when it is not installed). Binary data (NULs, many control
    characters) is refused. The result has ``\\n`` newlines and no NULs; it may be empty.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return clean_text(data[len(bom) :].decode(encoding))
            except UnicodeDecodeError as exc:
                raise _undecodable(f"it starts with a {encoding.upper()} marker but is not valid "
                                   f"{encoding.upper()}") from exc
    utf16 = _utf16_without_bom(data)
    if utf16 is not None and _looks_like_text(utf16):
        return clean_text(utf16)
    if data.count(0) > max(2, len(data) // 1000):
        raise _undecodable("it contains binary data")
    text: str | None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _mostly_utf8(data)
        if text is None:
            text = _detect(data)
    if text is None or not _looks_like_text(text):
        raise _undecodable("it contains binary data")
    if text.endswith("\x1a"):  # DOS end-of-file marker
        text = text.rstrip("\x1a")
    return clean_text(text)


_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# WHATWG: browsers read these labels as windows-1252, and so do we.
_HTML_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                         "us-ascii": "cp1252", "ascii": "cp1252"}


def decode_html(data: bytes) -> str:
    """Like ``decode_text`` but honours ``<meta charset>`` when the bytes are not UTF-8."""
    if not any(data.startswith(bom) for bom, _ in _BOMS):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            match = _META_CHARSET_RE.search(data[:4096])
            if match:
                label = match.group(1).decode("ascii", "ignore").lower()
                encoding = _HTML_CHARSET_ALIASES.get(label, label)
                try:
                    text = data.decode(encoding)
                except (UnicodeDecodeError, LookupError):
                    pass
                else:
                    if _looks_like_text(text):
                        return clean_text(text)
    return decode_text(data)


def decode_declared(data: bytes, charset: str | None) -> str:
    """Decode with a declared charset (mail parts), falling back to detection when it lies."""
    if charset:
        charset = _HTML_CHARSET_ALIASES.get(charset.lower(), charset)
        try:
            text = data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            if _looks_like_text(text):
                return clean_text(text)
    return decode_text(data)


# --- HTML to visible text --------------------------------------------------------------------

_SKIP_TAGS = frozenset({"script", "style", "head", "template", "noscript", "title", "svg", "math",
                        "iframe", "object", "canvas"})
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                        "param", "source", "track", "wbr", "keygen"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "html", "legend", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "br", "option",
})
_CELL_TAGS = frozenset({"td", "th"})
# Start tags that implicitly close an open element of the same name (enough for skip tracking).
_SELF_CLOSING_SIBLINGS = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.skip_depth: int | None = None  # stack depth at which the hidden element opened
        self.pre_depth = 0
        self.title = ""
        self._in_title = False

    def _hidden(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _SKIP_TAGS:
            return True
        for name, value in attrs:
            if name == "hidden" or (name == "aria-hidden" and value == "true"):
                return True
            if name == "style" and value and _HIDDEN_STYLE_RE.search(value):
                return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self.stack:
            # An unclosed <head> must not hide the whole body.
            self._pop_to("head")
        if tag in _SELF_CLOSING_SIBLINGS and self.stack and self.stack[-1] == tag:
            self._pop_to(tag)
        if tag == "title":
            self._in_title = True
        if self.skip_depth is None:
            if tag in _BLOCK_TAGS:
                self.parts.append("\n")
            elif tag in _CELL_TAGS:
                self.parts.append("\t")
        if tag in _VOID_TAGS:
            return
        self.stack.append(tag)
        if tag == "pre":
            self.pre_depth += 1
        if self.skip_depth is None and self._hidden(tag, attrs):
            self.skip_depth = len(self.stack)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <div/>: a block boundary but nothing opened.
        if self.skip_depth is None and (tag in _BLOCK_TAGS):
            self.parts.append("\n")

    def _pop_to(self, tag: str) -> None:
        while self.stack:
            popped = self.stack.pop()
            if popped == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            if popped == "title":
                self._in_title = False
            if self.skip_depth is not None and len(self.stack) < self.skip_depth:
                self.skip_depth = None
            if popped == tag:
                break

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.stack:
            self._pop_to(tag)
        if self.skip_depth is None and tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = " ".join(data.split())
        if self.skip_depth is not None:
            return
        if self.pre_depth:
            # Protect <pre> layout from the whitespace collapsing below; restored at the end.
            self.parts.append(data.replace("\n", "\x00").replace(" ", "\x01").replace("\t", "\x02"))
        else:
            self.parts.append(_WS_RE.sub(" ", data))


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML document and its ``<title>``.

    Drops script/style/head/template/noscript and hidden elements; block elements become line
    breaks, table cells tabs; whitespace is collapsed except inside ``<pre>``.
    """
    parser = _VisibleText()
    html = html.replace("\x00", "").replace("\x01", "").replace("\x02", "")  # markers used for <pre>
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; keep whatever it produced
        pass
    raw = "".join(parser.parts)
    lines = []
    for line in raw.split("\n"):
        line = re.sub(" {2,}", " ", line)
        line = "\t".join(part.strip(" ") for part in line.split("\t")).strip()
        lines.append(line.replace("\x00", "\n").replace("\x01", " ").replace("\x02", "\t"))
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return clean_text(text), parser.title


# --- Duplicates and hashes ---------------------------------------------------------------------


def normalise_for_duplicates(text: str) -> str:
    """Key for near-exact duplicate detection: NFKC, casefolded, whitespace collapsed, stripped."""
    return _WS_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of raw bytes (str is hashed as UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()
