"""classifiers.params.parse_int: the check that replaced ``str.isdigit()`` before ``int()``
(which let "²" and 5,000-digit strings through to a ValueError: a 500 in the tagging views)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.params import MAX_ID, parse_int
from tests.hostile import strategies as hs

EXAMPLES = 300


def test_known_traps():
    assert parse_int("42") == 42
    assert parse_int(7) == 7
    for raw in ("²", "\u0661", "\uff11", "9" * 5000, "9" * 20, str(MAX_ID + 1), "-1", " 1", "1.0", "", None, True, [1]):
        assert parse_int(raw) is None, raw
    assert parse_int(str(MAX_ID)) == MAX_ID
    assert parse_int("0") == 0 and parse_int("0", minimum=1) is None


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(hs.text, hs.numbers))
def test_never_raises_and_stays_in_range(raw):
    value = parse_int(raw)
    assert value is None or 0 <= value <= MAX_ID
