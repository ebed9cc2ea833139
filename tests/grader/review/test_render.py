"""Answers as safe HTML: Markdown and math kept, everything a student typed as markup left inert."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grader.review.render import ANSWER_CHARS, inline_html, markdown_html


def test_markdown_and_math_survive_and_markup_does_not() -> None:
    html = markdown_html("**$D^*(x) < 1$** <script>alert(1)</script>\n\n$$\\frac{a}{a+b}$$\n\n- one\n- two")
    assert '<strong><span class="math inline">D^*(x) &lt; 1</span></strong>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert '<div class="math block">\n\\frac{a}{a+b}\n</div>' in html and "<li>two</li>" in html


def test_no_remote_images_and_no_script_links() -> None:
    html = markdown_html("![seen](http://tracker.example/pixel.png) [x](javascript:alert(1)) [ok](https://a.org)")
    assert "<img" not in html and 'href="javascript:' not in html and '<a href="https://a.org">ok</a>' in html


def test_a_very_long_answer_is_cut_with_a_note() -> None:
    html = markdown_html("word " * ANSWER_CHARS)
    assert len(html) < 2 * ANSWER_CHARS and "characters; the first 50,000 are shown" in html


def test_a_rubric_item_renders_inline() -> None:
    assert inline_html("rewrites $\\mathbb{E}_z$ as *one* integral") == (
        'rewrites <span class="math inline">\\mathbb{E}_z</span> as <em>one</em> integral'
    )


@given(st.text(alphabet=st.sampled_from("<>&\"'/=$\\ *_[]()!`ascriptonerrorimg"), max_size=200))
def test_no_typed_text_becomes_a_tag_or_an_attribute(text: str) -> None:
    html = markdown_html(text)
    for forbidden in ("<script", "<img", "onerror=", '<a href="javascript'):
        assert forbidden not in html.lower()
