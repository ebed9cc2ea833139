"""A written answer (or a rubric's text) as HTML that is safe to show: Markdown with raw HTML escaped, no
images (a remote image would tell its server who opened the answer; figures belong in the report PDF), links
only to http(s) and mailto, and `$...$` / `$$...$$` math left as escaped TeX in `.math` elements, which the
page typesets with KaTeX in the browser under its expansion and size limits (see static/review.js)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

ANSWER_CHARS = 50_000  # a longer answer is shown cut, with a note: no page should take minutes to render
SAFE_LINKS = ("http://", "https://", "mailto:")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")
_markdown.use(dollarmath_plugin, allow_space=True, allow_digits=True)
_markdown.validateLink = lambda url: url.strip().lower().startswith(SAFE_LINKS)  # type: ignore[method-assign]


def markdown_html(text: str) -> Markup:
    """`text` (Markdown) as HTML in which nothing the student wrote can act: every tag they typed is text."""
    cut = len(text) > ANSWER_CHARS
    html = _markdown.render(text[:ANSWER_CHARS])
    if cut:
        html += f"<p class='cut'>(the answer has {len(text):,} characters; the first {ANSWER_CHARS:,} are shown)</p>"
    return Markup(html)  # markdown-it escaped every character the student wrote


def inline_html(text: str) -> Markup:
    """One line of Markdown (a rubric item) as inline HTML, escaped like `markdown_html`."""
    return Markup(_markdown.renderInline(text[:ANSWER_CHARS]))
