"""Branches over llama-server: the same tree, the same path-only prompts, the same ids fed back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.llama_server import LlamaServer
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine
from tui.core.chat.tree import Turn
from tui.core.engine.llama import Engine
from tui.core.engine.server import ServerEngine
from tui.core.settings.server import ServerSettings

GREEDY = Sampling(temperature=0.0, max_tokens=16, seed=4)


@pytest.fixture
def remote(server: LlamaServer) -> Iterator[ServerEngine]:
    engine = ServerEngine(ServerSettings(server.url))
    yield engine
    engine.close()


def _branches(engine: ChatEngine) -> tuple[Chat, list[Turn]]:
    """A fact told, then a sibling message that asks for it, then a reply continued from a token."""
    chat = Chat(engine, None, GREEDY)
    chat.new_session()
    list(chat.send("Hi! Let's talk."))
    list(chat.reply(chat.prepare("My secret word is PAPAYA."), confidence=True))
    told = chat.session.turns[-1]
    list(chat.reply(chat.prepare_edit(told, "What is my secret word?"), confidence=True))
    asked = chat.session.turns[-1]
    runner_up = next(a for a in asked.pieces[1].confidence.alternatives if a.token != asked.pieces[1].token)  # type: ignore[union-attr]
    list(chat.reply(chat.prepare_from_token(asked, 1, runner_up.token)))
    return chat, [told, asked, chat.session.turns[-1]]


def test_branches_over_the_server_match_in_process(engine: Engine, remote: ServerEngine) -> None:
    here, (told_here, asked_here, token_here) = _branches(engine)
    there, (told_there, asked_there, token_there) = _branches(remote)
    assert "PAPAYA" not in asked_there.prompt.text  # only the path reaches the model
    assert asked_there.prompt.ids == asked_here.prompt.ids and asked_there.reply == asked_here.reply
    assert token_there.prompt.ids == token_here.prompt.ids  # the same ids fed back
    assert token_there.prompt.ids[-1] == token_there.pieces[1].token
    assert remote.last_report["tokens_evaluated"] == len(token_there.prompt.ids)
    assert token_there.reply == token_here.reply
    assert there.session.tree.unsent() == here.session.tree.unsent() == (2, 2)

    never = Chat(remote, None, GREEDY)  # a session on the server that never had the told branch
    never.new_session()
    list(never.send("Hi! Let's talk."))
    list(never.send("What is my secret word?"))
    reference = never.session.turns[-1]
    assert reference.prompt.ids == asked_there.prompt.ids and reference.reply == asked_there.reply
