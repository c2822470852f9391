"""A long reply keeps only its tail live; what was frozen is exactly the text that came before."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.ui.widgets.conversation import Conversation
from tui.ui.widgets.message_views import FREEZE_CHARS, FrozenBlock, Reply, safe_cut


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Conversation()


def test_safe_cut_never_splits_a_code_fence() -> None:
    assert safe_cut("para one\n\npara two") == len("para one\n\n")
    fenced = "intro\n\n```python\nx = 1\n\ny = 2\n"
    assert safe_cut(fenced) == len("intro\n\n")
    assert safe_cut("no blank line at all") == 0


async def test_long_replies_freeze_completed_blocks_and_keep_every_character() -> None:
    paragraph = "A sentence about the sea and the wind. " * 6 + "\n\n"
    code = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(12)) + "\n```\n\n"
    text = (paragraph * 3 + code) * 6
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await app.query_one(Conversation).start_turn("long please")
        reply = await turn.start_reply()
        for start in range(0, len(text), 97):
            await reply.add(text[start : start + 97])
        await reply.finish()
        await pilot.pause()
        frozen = [s.markdown for s in reply.query(FrozenBlock)]
        live = reply.query_one(".live", Markdown)
        assert len(text) > 3 * FREEZE_CHARS and len(frozen) >= 3
        assert "".join(frozen) + live.source == text == reply.text
        assert all(segment.count("```") % 2 == 0 for segment in frozen)
        assert len(live.source) < FREEZE_CHARS + 200
        assert isinstance(reply, Reply)
