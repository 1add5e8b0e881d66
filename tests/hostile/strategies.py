"""Hypothesis strategies for hostile form and query values.

Each strategy draws what a browser could never send but a script can: very long strings,
control characters and NUL bytes, unicode oddities (bidi overrides, zero-width joiners,
combining marks, non-ASCII digits that ``str.isdigit`` accepts but ``int`` may not), numbers
that are too big, negative, fractional or not numbers at all, lists where one value is
expected, and the ids of objects that belong to somebody else's project.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Strings that have broken views elsewhere: each one a known trap.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 10,
    "\r\n\t\x0b\x0c",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200c\u200d\ufeff",  # zero-width characters, BOM
    "e\u0301\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\U0001f4a9\U0001f468\u200d\U0001f469\u200d\U0001f467",  # astral + ZWJ sequence
    "\ud7ff\ue000\uffff",
    "²",  # isdigit() is True, int() refuses it
    "¹²³",
    "\u0661\u0662\u0663",  # Arabic-Indic digits: int() accepts them
    "\uff11\uff12",  # full-width digits
    "9" * 5000,  # more digits than int() converts by default
    "9" * 30,  # beyond a 64-bit column
    "18446744073709551616",
    "9223372036854775807",  # the largest bigint: +1 in a view overflows
    "9223372036854775808",
    "-9223372036854775809",
    "-1",
    "0",
    "00",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    " 7 ",
    "7\x00",
    "true",
    "null",
    "[]",
    "{}",
    '{"a": 1}',
    "AND (",
    '"unbalanced',
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{ 7*7 }}{% debug %}",
    "%(name)s{0}",
    "x" * 300,
    "y" * 100_001,
]

# Control characters and the odd code points, mixed with ordinary letters.
_ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\x00", "\x01", "\x1f", "\x7f", "\u2028", "\u202e", "\ufeff", "\ufffd", "\U0010ffff"]),
)

text = st.one_of(
    st.sampled_from(NASTY),
    st.text(_ALPHABET, max_size=60),
    st.builds(lambda s, n: s * n, st.text(_ALPHABET, min_size=1, max_size=3), st.integers(1000, 30_000)),
)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["²", "\u0661", "\uff11", "9" * 5000, "-0", "+1", "1_000", "0b1", "\u2460"]),
)


def value(ids: list[int] | None = None) -> st.SearchStrategy:
    """One field's value: a string, a number-ish string, a list of them, or a forged id."""
    scalar = st.one_of(text, numbers, *([st.sampled_from([str(i) for i in ids])] if ids else []))
    return st.one_of(scalar, st.lists(scalar, min_size=2, max_size=4))


def form(fields: dict[str, st.SearchStrategy], ids: list[int]) -> st.SearchStrategy:
    """A POST body: for each field either a hostile value, a plausible one, or nothing."""
    drawn = {
        name: st.one_of(st.none(), value(ids), plausible) for name, plausible in fields.items()
    }
    return st.fixed_dictionaries(drawn).map(lambda d: {k: v for k, v in d.items() if v is not None})
