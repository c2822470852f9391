"""Prompt parts on the real SmolLM2: every token counted once, the template's own text shown as such."""

from __future__ import annotations

import pytest

from tui.core.engine.llama import Engine
from tui.core.prompt.messages import Message
from tui.core.prompt.parts import appended_from, char_kinds, parts

CONVERSATIONS = {
    "no system": [Message("user", "Who are you?")],
    "system": [Message("system", "You are Almo."), Message("user", "Who are you?")],
    "history": [
        Message("system", "Be brief."),
        Message("user", "Hi"),
        Message("assistant", "Hello! ünï 日本"),
        Message("user", "And now?"),
    ],
}


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_token_counts_add_up_to_the_prompt_length(engine: Engine, name: str) -> None:
    prompt = engine.build_prompt(CONVERSATIONS[name])
    found = {p.kind: p for p in parts(prompt)}
    assert sum(p.tokens for p in found.values()) == len(prompt)
    assert sum(p.chars for p in found.values()) == len(prompt.text)
    assert found["message"].tokens > 0 and found["generation"].tokens > 0
    ranges = char_kinds(prompt)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(prompt.text)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))


def test_the_injected_default_is_the_templates_own_text(engine: Engine) -> None:
    prompt = engine.build_prompt(CONVERSATIONS["no system"])
    kinds = {kind: prompt.text[start:end] for start, end, kind in char_kinds(prompt) if kind != "template"}
    template_text = "".join(prompt.text[s:e] for s, e, k in char_kinds(prompt) if k == "template")
    assert "You are a helpful AI assistant named SmolLM" in template_text
    assert "system" not in kinds
    assert kinds["generation"] == "<|im_start|>assistant\n"
    with_system = {p.kind: p for p in parts(engine.build_prompt(CONVERSATIONS["system"]))}
    assert with_system["system"].chars == len("You are Almo.")


def test_history_is_everything_before_the_new_message(engine: Engine) -> None:
    found = {p.kind: p for p in parts(engine.build_prompt(CONVERSATIONS["history"]))}
    assert found["history"].chars == len("Hi") + len("Hello! ünï 日本")
    assert found["message"].chars == len("And now?")


def test_appended_from() -> None:
    assert appended_from("abc", "abcdef") == 3
    assert appended_from("abX", "abcdef") == 2
    assert appended_from("", "x") == 0
