"""Replies keep the model's line breaks, as chat apps show them, while still rendering Markdown.

CommonMark joins the lines of a paragraph (a "soft" break is a space), so a four-line poem showed
as one line while the inspector showed four. Both renderers llm-tui uses for replies (Textual's
live Markdown, Rich's for frozen blocks) read markdown-it tokens: each soft break becomes a hard
one there, in the parsed tokens, so code blocks, lists and tables are untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markdown_it import MarkdownIt


def harden(tokens: Iterable[Any]) -> None:
    """Every soft line break in ``tokens`` (markdown-it's, parsed) becomes a hard one."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"


def _rule(state: Any) -> None:
    harden(state.tokens)


def reply_parser() -> MarkdownIt:
    """Textual's own "gfm-like" parser, keeping line breaks (a ``parser_factory`` for Markdown)."""
    parser = MarkdownIt("gfm-like")
    parser.core.ruler.push("llm_tui_line_breaks", _rule)
    return parser
