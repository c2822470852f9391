"""One contract, every engine: the in-process engine, the llama-server engine and the UI tests' fake
all go through `EngineBase`, and each must keep what a session relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.test_reasoning_replies import R1
from tests.server.llama_server import LlamaServer
from tests.ui.helpers import FakeEngine
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import ChatEngine
from tui.core.engine.base import EngineBase
from tui.core.engine.server import ServerEngine
from tui.core.engine.values import ContextFullError, Piece, ReplyStats
from tui.core.prompt.messages import Message
from tui.core.settings.server import ServerSettings

SHORT = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=3, seed=7)


@pytest.fixture(params=["in-process", "llama-server", "fake"])
def any_engine(request: pytest.FixtureRequest, model_path: Path) -> Iterator[ChatEngine]:
    if request.param == "in-process":
        chosen: ChatEngine = request.getfixturevalue("engine")
    elif request.param == "llama-server":
        server: LlamaServer = request.getfixturevalue("server")
        chosen = ServerEngine(ServerSettings(server.url))
    else:
        chosen = FakeEngine(words=("a", "b", "c", "d", "e"), shown_seed=None)
    assert isinstance(chosen, EngineBase)
    chosen.reset()
    yield chosen
    chosen.use_template_file(None)
    if request.param == "llama-server":
        chosen.close()


def _reply(engine: ChatEngine, text: str, sampling: Sampling = SHORT) -> tuple[list[Piece], ReplyStats]:
    events = list(engine.generate(engine.build_prompt([Message("user", text)]), sampling))
    *pieces, stats = events
    assert isinstance(stats, ReplyStats) and all(isinstance(p, Piece) for p in pieces)
    return pieces, stats  # type: ignore[return-value]


def test_the_reply_ends_with_its_stats_and_keeps_to_its_budget(any_engine: ChatEngine) -> None:
    pieces, stats = _reply(any_engine, "Count to ten.")
    assert stats.completion_tokens <= SHORT.max_tokens and stats.seed == SHORT.seed
    assert len([p for p in pieces if p.token >= 0]) == stats.completion_tokens
    assert stats.stop in ("max_tokens", "end_of_turn")


def test_a_prompt_that_fills_the_context_is_refused_before_anything_streams(any_engine: ChatEngine) -> None:
    long = "word " * (any_engine.info.n_ctx + 10)
    prompt = any_engine.build_prompt([Message("user", long)])
    with pytest.raises(ContextFullError, match=f"the context holds {any_engine.info.n_ctx}"):
        next(iter(any_engine.generate(prompt, SHORT)))


def test_a_template_file_replaces_the_own_one_and_none_brings_it_back(any_engine: ChatEngine) -> None:
    own = any_engine.template
    any_engine.use_template_file(R1)
    assert (
        str(R1) in any_engine.info.template_name and any_engine.template.name == any_engine.info.template_name
    )
    assert "<｜Assistant｜>" in any_engine.build_prompt([Message("user", "Hi")]).text
    any_engine.use_template_file(None)
    assert any_engine.template is own and any_engine.info.template_name == own.name


def test_generated_ids_are_fed_back_after_the_prompt(any_engine: ChatEngine) -> None:
    prompt = any_engine.build_prompt([Message("user", "Hi")])
    ids = prompt.ids[-2:]
    extended = any_engine.extend_prompt(prompt, ids)
    assert extended.ids == prompt.ids + ids and extended.fed_back == (len(prompt.tokens), len(prompt.text))
