"""Thinking in the TUI on the real model: SmolLM2 under the DeepSeek-R1 template, whose generation
prompt opens the thinking block; folding, showing and hiding, and switching it off for a turn."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_reasoning_replies import R1
from tests.ui.helpers import FakeEngine, ready, real_app, send, wait_until
from tui.core.chat.sampling import Sampling
from tui.ui.app import AppConfig, create_app
from tui.ui.widgets.message_views import Reply, ThinkingBlock


async def test_the_model_thinks_in_a_dimmed_block_and_the_answer_stays_apart(model_path: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0, seed=1, max_tokens=24))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None
        chat.chat.engine.use_template_file(R1)
        chat.chat.session.variables["enable_thinking"] = True
        await send(pilot, chat, "What is 2+2?", 1)
        block = chat.query_one(ThinkingBlock)
        turn = chat.chat.session.turns[0]
        assert turn.thinking and block.text == turn.thinking
        assert block.tokens > 0 and f"{block.tokens} tokens" in str(block.title)
        assert chat.query_one(Reply).text == turn.reply  # the answer only
        await pilot.press("f9")
        await wait_until(pilot, lambda: not block.display or block.styles.display == "none")
        await pilot.press("f9")
        await wait_until(pilot, lambda: block.styles.display != "none")
        await pilot.press("ctrl+t")  # thinking off for the next turn: the template closes the block itself
        prompt = chat.chat.session.prepare(
            chat.chat.engine,
            "And 3+3?",
        ).prompt
        assert prompt.generation_prompt.endswith("<think>\n</think>")


async def test_a_plain_model_writing_think_tags_is_just_text() -> None:
    """A template that knows no thinking: a <think> in the reply is the model's text, shown as such."""
    words = ("Use the ", "<think>", " tag.")
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(words=words)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.screen_stack[1]
        await wait_until(pilot, lambda: chat.chat is not None)  # type: ignore[attr-defined]
        await send(pilot, chat, "Which tag?", 1)  # type: ignore[arg-type]
        assert not chat.query(ThinkingBlock)
        assert chat.query_one(Reply).text == "Use the <think> tag."


async def test_the_block_folds_when_the_answer_starts() -> None:
    from tests.core.test_reasoning_templates import template

    words = ("<think>", "Let me see.", "</think>", "\n\nFour.")
    qwen3 = template("qwen3")
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(words=words, template=qwen3)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.screen_stack[1]
        await wait_until(pilot, lambda: chat.chat is not None)  # type: ignore[attr-defined]
        await send(pilot, chat, "2+2?", 1)  # type: ignore[arg-type]
        block = chat.query_one(ThinkingBlock)
        assert block.collapsed and block.text == "Let me see."
        assert chat.query_one(Reply).text == "Four."
