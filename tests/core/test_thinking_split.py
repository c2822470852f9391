"""Thinking apart from the answer while a reply streams, in pieces of every size."""

from __future__ import annotations

import pytest

from tui.core.chat.thinking import ThinkingSplitter, opened_by_prompt


def split(pieces: list[str], **options: object) -> tuple[str, str, str]:
    splitter = ThinkingSplitter(**options)  # type: ignore[arg-type]
    got = [seg for piece in pieces for seg in splitter.feed(piece)] + splitter.finish()
    parts = {kind: "".join(text for k, text in got if k == kind) for kind in ("thinking", "answer", "markup")}
    return parts["thinking"], parts["answer"], parts["markup"]


def every_cut(text: str) -> list[list[str]]:
    """The text cut into pieces at every position, and one character at a time."""
    return [[text[:i], text[i:]] for i in range(len(text) + 1)] + [list(text)]


QWEN = "<think>\nThe user wants a prime.\n</think>\n\nSeven."


@pytest.mark.parametrize("pieces", every_cut(QWEN))
def test_think_tags_however_the_text_is_cut(pieces: list[str]) -> None:
    assert split(pieces) == ("\nThe user wants a prime.\n", "Seven.", "<think></think>")


def test_the_prompt_opened_the_block() -> None:
    text = "Okay, 7 is prime.\n</think>\n\n7"
    for pieces in every_cut(text):
        assert split(pieces, inside=True)[:2] == ("Okay, 7 is prime.\n", "7")
    assert opened_by_prompt("<|im_start|>assistant\n<think>\n")
    assert not opened_by_prompt("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not opened_by_prompt("<|im_start|>assistant\n")


def test_a_block_never_closed_stays_thinking() -> None:
    assert split(["<think>\nHmm, let me", " think about </thi"]) == (
        "\nHmm, let me think about </thi",
        "",
        "<think>",
    )


def test_text_before_the_block_is_answer_and_lookalikes_are_text() -> None:
    assert split(["Sure. <thi", "nk>plan</think>Done."]) == ("plan", "Sure. Done.", "<think></think>")
    assert split(["a <thinker> b"]) == ("", "a <thinker> b", "")


HARMONY = (
    "<|channel|>analysis<|message|>User asks for a prime. Answer 7.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>7 is prime.<|return|>"
)


@pytest.mark.parametrize("pieces", every_cut(HARMONY))
def test_harmony_channels_however_the_text_is_cut(pieces: list[str]) -> None:
    thinking, answer, _ = split(pieces, style="harmony")
    assert (thinking, answer) == ("User asks for a prime. Answer 7.", "7 is prime.")


def test_harmony_commentary_is_thinking_and_an_unfinished_analysis_stays_thinking() -> None:
    text = (
        "<|channel|>commentary<|message|>Checking.<|end|>"
        "<|start|>assistant<|channel|>analysis<|message|>Still"
    )
    assert split([text], style="harmony")[:2] == ("Checking.Still", "")
