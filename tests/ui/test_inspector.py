"""The inspector on the real SmolLM2: what it shows is what the model is sent."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import ready, real_app, wait_until
from tui.core.chat.sampling import Sampling
from tui.core.prompt.parts import appended_from
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import ReplyFooter
from tui.ui.widgets.inspector import Inspector, render_prompt

DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


async def test_the_inspector_shows_exactly_what_is_sent(model_path: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=10, seed=3))
    async with app.run_test(size=(140, 36)) as pilot:
        chat = await ready(pilot, app)
        await pilot.press("f2")
        inspector = chat.query_one(Inspector)
        assert inspector.display
        chat.query_one(ChatInput).insert("Who are you?")
        await wait_until(pilot, lambda: inspector.current is not None)
        live = inspector.current
        assert live is not None and DEFAULT in live.text
        rendered = render_prompt(live, None, tokens=False, ids=False)
        assert rendered.plain == live.text
        underlined = [rendered.plain[s.start : s.end] for s in rendered.spans if "underline" in str(s.style)]
        assert DEFAULT in "".join(underlined)
        with_ids = render_prompt(live, None, tokens=True, ids=True).plain
        assert with_ids.count("⟨") == len(live)
        summary = str(chat.query_one("#inspector-summary").render())
        assert f"= {len(live)} of 1024 tokens" in summary

        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chat.query(ReplyFooter)) == 1)
        sent = chat.chat.session.turns[0].prompt  # type: ignore[union-attr]
        assert sent.text == live.text and sent.ids == live.ids

        chat.query_one(ChatInput).insert("And you?")
        await wait_until(pilot, lambda: len(inspector.prompts) == 2)
        second = inspector.current
        assert second is not None
        kept = appended_from(sent.text, second.text)
        assert kept == len(sent.text)  # the whole first prompt is re-sent, then the new turn
        diffed = render_prompt(second, sent.text, tokens=False, ids=False)
        dim_chars = sum(s.end - s.start for s in diffed.spans if str(s.style) == "dim" and s.end <= kept)
        assert dim_chars >= kept - 1
        await pilot.press("tab", "tab")
        chat.query_one(Inspector).focus()
        await pilot.press("left_square_bracket")
        assert inspector.current is not None and inspector.current.text == sent.text


async def test_turns_dropped_for_context_are_shown_as_dropped(model_path: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=16, seed=3), n_ctx=256)
    async with app.run_test(size=(140, 36)) as pilot:
        chat = await ready(pilot, app)
        await pilot.press("f2")
        long = "tell me about the sea and the wind and the long grey waves " * 5
        for n in range(3):
            chat.query_one(ChatInput).insert(f"Turn {n}: {long}")
            await pilot.press("enter")
            await wait_until(pilot, lambda n=n: len(chat.query(ReplyFooter)) == n + 1)
        chat.query_one(ChatInput).insert(f"Turn 3: {long}")
        inspector = chat.query_one(Inspector)
        await wait_until(pilot, lambda: len(inspector.prompts) == 4)
        assert inspector.dropped and inspector.dropped[0].startswith("Turn 0:")
        title = str(chat.query_one("#inspector-title").render())
        assert "dropped to fit the context" in title and "✗ Turn 0:" in title
        assert "Turn 0:" not in inspector.current.text  # type: ignore[union-attr]


async def test_after_a_new_session_the_inspector_shows_a_prompt_with_nothing_of_before(
    model_path: Path,
) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=8, seed=3))
    async with app.run_test(size=(140, 36)) as pilot:
        chat = await ready(pilot, app)
        await pilot.press("f2")
        chat.query_one(ChatInput).insert("My name is Zorblax.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chat.query(ReplyFooter)) == 1)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 2)
        chat.query_one(ChatInput).insert("What is my name?")
        inspector = chat.query_one(Inspector)
        await wait_until(
            pilot, lambda: len(inspector.prompts) == 1 and "What is my name?" in inspector.current.text
        )  # type: ignore[union-attr]
        text = inspector.current.text  # type: ignore[union-attr]
        assert "Zorblax" not in text
        assert text.count("<|im_start|>") == 3  # the template's system header, the new message, the reply cue
