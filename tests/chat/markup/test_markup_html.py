"""HTML both ways for Teams (chatMessage body, contentType html) and Matrix (formatted_body)."""

from __future__ import annotations

import pytest

from multichat.chat.markup.html import from_html, to_html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**b** *i* ~~s~~ `c`", "<p><strong>b</strong> <em>i</em> <s>s</s> <code>c</code></p>"),
        ("# Title", "<h1>Title</h1>"),
        ("[x](https://x.org)", '<p><a href="https://x.org">x</a></p>'),
        ("<mailto:ada@x.org>", '<p><a href="mailto:ada@x.org">mailto:ada@x.org</a></p>'),
        ("![cat](https://x.org/c.png)", '<p><a href="https://x.org/c.png">cat</a></p>'),
        ("line\nbreak", "<p>line<br />\nbreak</p>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("```py\nx < 1\n```", '<pre><code class="language-py">x &lt; 1\n</code></pre>'),
    ],
)
def test_to_html_renders_commonmark(markdown: str, html: str) -> None:
    assert to_html(markdown) == html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "hello <b>bold</b>",
        "<div>\nblock\n</div>",
        "<!-- comment -->",
    ],
)
def test_to_html_escapes_raw_html(markdown: str) -> None:
    html = to_html(markdown)
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "<div" not in html
    assert "<!--" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        "[x](/relative/path)",
    ],
)
def test_to_html_makes_links_only_for_http_https_and_mailto(markdown: str) -> None:
    assert "href" not in to_html(markdown)


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ('<p>Hi <at id="0">Ada Lovelace</at>!</p>', "Hi @Ada Lovelace!"),
        ('<a href="https://matrix.to/#/@ada:example.org">Ada</a> hi', "@Ada hi"),
        ('<a href="https://matrix.to/#/@ada:example.org">@ada:example.org</a>', "@ada:example.org"),
        (
            '<mx-reply><blockquote><a href="https://matrix.to/#/!r:x/$e">In reply to</a> '
            '<a href="https://matrix.to/#/@bob:x">@bob:x</a><br>old</blockquote></mx-reply>'
            "my answer",
            "my answer",
        ),
        ("<b>b</b> <strong>s</strong> <i>i</i> <em>e</em>", "**b** **s** *i* *e*"),
        ("<del>x</del> <s>y</s>", "~~x~~ ~~y~~"),
        ('<a href="https://x.org">site</a>', "[site](https://x.org)"),
        ('<a href="https://x.org">https://x.org</a>', "<https://x.org>"),
        ("<h2>Title</h2>", "## Title"),
        ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
        ('<pre><code class="language-python">x = 1\n</code></pre>', "```python\nx = 1\n```"),
        ("one<br>two", "one\\\ntwo"),
        ('<emoji id="smile" alt="🙂" title="Smile"></emoji> ok', "🙂 ok"),
        ("<p>snake_case 2*3</p>", "snake_case 2*3"),
    ],
)
def test_from_html_reads_teams_and_matrix_html(html: str, markdown: str) -> None:
    assert from_html(html) == markdown


@pytest.mark.parametrize(
    "markdown",
    [
        "**Release** is *out*: [notes](https://x.org/notes)",
        "# Plan\n\n- one\n- two",
        "```python\nx = 1\n```",
        "~~old~~ new",
    ],
)
def test_markdown_survives_a_round_trip_through_html(markdown: str) -> None:
    assert from_html(to_html(markdown)) == markdown
