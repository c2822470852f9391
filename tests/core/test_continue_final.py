"""Continuing a reply: the final assistant message left open, as transformers renders it with
``continue_final_message=True``, for every template family the tests carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_reasoning_templates import REASONING
from tests.core.test_reasoning_templates import template as reasoning_template
from tests.core.test_templates import FAMILIES, _smollm2, _template, reference
from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate, TemplateRenderError

EDITED = [
    Message("user", "Name a prime, then explain."),
    Message("assistant", "Seven. It is prime because "),  # edited by the user, to be continued
]


def templates(model_path: Path) -> list[ChatTemplate]:
    return [
        *(_template(name) for name in sorted(FAMILIES)),
        _smollm2(model_path),
        *(reasoning_template(name) for name in sorted(REASONING)),
    ]


def test_the_final_message_is_left_open_as_transformers_leaves_it(model_path: Path) -> None:
    for chosen in templates(model_path):
        ours = chosen.render(EDITED, continue_final=True)
        assert ours == reference(chosen, EDITED, continue_final_message=True), chosen.name
        assert ours.endswith("It is prime because") or ours.endswith("It is prime because "), chosen.name


def test_a_template_that_cannot_continue_says_so() -> None:
    """A template that rewrites the message text leaves nothing to continue from: transformers
    refuses, and so do we, in one line that names the template."""
    shouting = ChatTemplate("{% for m in messages %}{{ m['content'] | upper }}\n{% endfor %}", "shouting")
    with pytest.raises(ValueError, match="does not appear in the chat"):
        reference(shouting, EDITED, continue_final_message=True)
    with pytest.raises(TemplateRenderError, match="shouting.*cannot continue a message"):
        shouting.render(EDITED, continue_final=True)
