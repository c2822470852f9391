"""Reasoning templates with thinking and their own variables, byte for byte as transformers renders
them: Qwen3, SmolLM3, gpt-oss and the DeepSeek-R1 distills, as llama.cpp ships their templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_templates import reference
from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate

TEMPLATES = Path(__file__).resolve().parents[2] / ".venv" / "llama-src" / "templates"

# (file in llama.cpp's models/templates, bos, eos, the field its earlier thinking goes in)
REASONING = {
    "qwen3": ("Qwen-Qwen3-0.6B.jinja", "", "<|im_end|>", "reasoning_content"),
    "smollm3": ("HuggingFaceTB-SmolLM3-3B.jinja", "", "<|im_end|>", "written"),
    "gpt-oss": ("openai-gpt-oss-120b.jinja", "<|startoftext|>", "<|return|>", "thinking"),
    "r1-distill": (
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
        "<｜begin▁of▁sentence｜>",
        "<｜end▁of▁sentence｜>",
        "written",
    ),
}

THOUGHT_1 = "The user greets me. I should greet back briefly."
ANSWER_1 = "Hello! How can I help?"
THOUGHT_2 = "Seven is prime; so is eleven."


def conversation() -> list[Message]:
    return [
        Message("system", "Answer tersely."),
        Message("user", "Hi there"),
        Message(
            "assistant",
            ANSWER_1,
            thinking=THOUGHT_1,
            written=f"<think>\n{THOUGHT_1}\n</think>\n\n{ANSWER_1}",
        ),
        Message("user", "Name two primes."),
        Message(
            "assistant",
            "7 and 11.",
            thinking=THOUGHT_2,
            written=f"<think>\n{THOUGHT_2}\n</think>\n\n7 and 11.",
        ),
        Message("user", "And a third?"),
    ]


def template(name: str, **variables: object) -> ChatTemplate:
    file, bos, eos, _ = REASONING[name]
    return ChatTemplate((TEMPLATES / file).read_text(), name, bos, eos).with_variables(variables)


VARIABLES = {
    "qwen3": [{}, {"enable_thinking": False}, {"enable_thinking": True}],
    "smollm3": [{}, {"enable_thinking": False}],
    "gpt-oss": [{}, {"reasoning_effort": "low"}, {"reasoning_effort": "high"}],
    "r1-distill": [{}],
}


@pytest.mark.parametrize(
    ("name", "variables"), [(name, v) for name, options in VARIABLES.items() for v in options]
)
@pytest.mark.parametrize("add_generation_prompt", [True, False])
@pytest.mark.parametrize("turns", [2, 4, 6])
def test_byte_identical_to_transformers(
    name: str, variables: dict[str, object], add_generation_prompt: bool, turns: int
) -> None:
    chosen = template(name, **variables)
    messages = conversation()[:turns]
    ours = chosen.render(messages, add_generation_prompt)
    assert ours == reference(chosen, messages, add_generation_prompt=add_generation_prompt) and ours


@pytest.mark.parametrize("name", sorted(REASONING))
def test_each_template_gets_earlier_thinking_the_way_it_reads_it(name: str) -> None:
    assert template(name).thinking_style == REASONING[name][3]


def test_what_the_templates_do_with_earlier_thinking() -> None:
    """The lecture's point made concrete: the template decides whether old thoughts are sent again."""
    messages = conversation()
    qwen = template("qwen3").render(messages)
    assert THOUGHT_1 not in qwen and THOUGHT_2 not in qwen  # kept only after the last user message
    gpt = template("gpt-oss").render(messages)
    assert THOUGHT_1 not in gpt and THOUGHT_2 not in gpt  # dropped: the final answers only
    r1 = template("r1-distill").render(messages)
    assert THOUGHT_1 not in r1 and THOUGHT_2 not in r1  # the template cuts at </think>
    smol = template("smollm3").render(messages)
    assert THOUGHT_1 in smol and THOUGHT_2 in smol  # /think mode sends the content as written
    assert "/no_think" in template("smollm3", enable_thinking=False).render(messages)
    assert "<think>\n\n</think>" in template("qwen3", enable_thinking=False).render(messages)
    assert "Reasoning: low" in template("gpt-oss", reasoning_effort="low").render(messages)


def test_which_variables_a_template_reads() -> None:
    assert "enable_thinking" in template("qwen3").variables_read()
    assert "enable_thinking" not in template("gpt-oss").variables_read()
    assert "reasoning_effort" in template("gpt-oss").variables_read()


def test_parts_and_fates_say_what_the_template_did_with_earlier_thinking() -> None:
    from tests.char_tokenizer import CharTokenizer
    from tui.core.prompt.build import build_prompt
    from tui.core.prompt.parts import parts, thinking_fates

    messages = conversation()
    smol = build_prompt(template("smollm3"), messages, CharTokenizer())
    by_kind = {p.kind: p for p in parts(smol)}
    assert by_kind["thinking"].chars == len(THOUGHT_1) + len(THOUGHT_2)
    assert [(f.reply, f.resent) for f in thinking_fates(smol)] == [(1, True), (2, True)]
    assert [f.tokens for f in thinking_fates(smol)] == [len(THOUGHT_1), len(THOUGHT_2)]  # 1 char, 1 token
    qwen = build_prompt(template("qwen3"), messages, CharTokenizer())
    assert "thinking" not in {p.kind for p in parts(qwen)}
    assert [(f.reply, f.resent) for f in thinking_fates(qwen)] == [(1, False), (2, False)]
    assert sum(p.tokens for p in parts(smol)) == len(smol)  # every token in exactly one part
