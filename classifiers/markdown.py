"""Markdown written by project members (guidelines), rendered to HTML that is safe to show.

The markdown package passes raw HTML through, so its output is untrusted: nh3 keeps only the
tags below, drops every other attribute (event handlers, ``style``, which the strict CSP would
block anyway) and every link scheme but http, https and mailto.
"""

from __future__ import annotations

from functools import lru_cache

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "b", "i", "del",
    "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists"]


@lru_cache(maxsize=64)
def _render(text: str) -> str:
    # Cached: the tagging view renders the same guidelines on every document.
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str) -> SafeString:
    """``text`` as sanitised HTML, ready for a template."""
    if not text or not text.strip():
        return mark_safe("")
    return mark_safe(_render(text))  # sanitised by nh3 in _render
