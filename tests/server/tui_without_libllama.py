"""Run by test_tui.py in a process of its own: the TUI chatting through llama-server, with the
inspector, token confidence, branches (regenerate, switch back, continue from a runner-up token)
and a new session, while libllama is never loaded.

    python tests/server/tui_without_libllama.py URL  ->  one JSON line of what it saw
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tui.core.settings.server import ServerSettings
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.confidence_view import ConfidenceView
from tui.ui.widgets.conversation import ReplyFooter, TurnView
from tui.ui.widgets.inspector import Inspector
from tui.ui.widgets.message_views import Reply
from tui.ui.widgets.status import StatusLine


async def main(url: str) -> dict[str, object]:
    app = create_app(AppConfig(server=ServerSettings(url), persona="no-system"))
    seen: dict[str, object] = {}
    async with app.run_test(size=(120, 40)) as pilot:

        async def until(condition: object, timeout: float = 60) -> None:
            deadline = time.monotonic() + timeout
            while not condition():  # type: ignore[operator]
                assert time.monotonic() < deadline, "timed out"
                await pilot.pause(0.05)

        chat = app.screen_stack[-1]
        assert isinstance(chat, ChatScreen)
        await until(lambda: chat.chat is not None)
        seen["device"] = chat.query_one(StatusLine).device
        await pilot.press("f2", "f8")
        chat.query_one(ChatInput).insert("Say hello to the sea.")
        await pilot.press("enter")
        await until(lambda: len(chat.query(ReplyFooter)) == 1)
        await until(lambda: len(chat.query(ConfidenceView)) == 1)
        inspector = chat.query_one(Inspector)
        seen["inspector_shown"] = inspector.display
        assert chat.chat is not None
        turn = chat.chat.session.turns[0]
        seen["prompt_ids"] = len(turn.prompt.ids)
        seen["notes"] = list(turn.prompt.notes)
        seen["title"] = chat.sub_title
        seen["reply"] = turn.reply
        seen["confidence_pieces"] = len(turn.pieces)
        seen["first_session"] = chat.chat.session.number

        tree = chat.chat.session.tree
        await pilot.press("ctrl+r")  # a sibling reply, sampled again
        await until(lambda: len(tree.turns) == 2 and not chat.busy)
        chat.query_one(Reply).focus()
        await pilot.press("alt+left")  # back to the first: nothing decoded
        await until(lambda: chat.chat is not None and chat.chat.session.turns == [turn])
        await until(lambda: [v.turn for v in chat.query(TurnView)] == [turn])  # redrawn
        seen["switched_back"] = chat.query_one(Reply).text == turn.reply
        view = chat.query_one(ConfidenceView)
        view.focus()
        # The second token's most likely runner-up that is not the token sampled there.
        options = turn.pieces[1].confidence.alternatives  # type: ignore[union-attr]
        place = next(i for i, a in enumerate(options) if a.token != turn.pieces[1].token)
        await pilot.press("right", "right", *["down"] * place, "enter")
        await until(lambda: len(tree.turns) == 3 and not chat.busy)
        branch = tree.turns[2]
        chosen = options[place].token
        seen["token_branch_fed_exact_ids"] = branch.prompt.ids == turn.prompt.ids + [
            turn.pieces[0].token,
            chosen,
        ]
        seen["token_branch_position"] = str(tree.position(branch, "reply"))
        await pilot.press("ctrl+n")
        await until(lambda: chat.chat is not None and chat.chat.session.number == 2)
        chat.query_one(ChatInput).focus()
        chat.query_one(ChatInput).insert("Say hello to the sea.")
        await pilot.press("enter")
        session = chat.chat.session
        await until(lambda: bool(session.turns) and session.turns[0].stats is not None)
        stats = session.turns[0].stats
        seen["new_session_reused"] = stats.reused_tokens if stats else None
    seen["llama_cpp_loaded"] = any(
        name == "llama_cpp" or name.startswith("llama_cpp.") for name in sys.modules
    )
    return seen


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
