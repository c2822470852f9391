"""Edit a reply and let the model continue it: on the real SmolLM2, fed exactly the edited text."""

from __future__ import annotations

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import Piece


def test_the_model_continues_from_the_last_character_of_the_edit(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, None, Sampling(temperature=0, seed=1, max_tokens=16))
    list(chat.send("Name a prime number."))
    edited = "Eleven is a prime number because"
    added = "".join(e.text for e in chat.continue_reply(edited) if isinstance(e, Piece))
    turn = chat.session.turns[-1]
    assert len(chat.session.turns) == 1  # the edited turn replaced the old one
    assert turn.reply == edited + added and added
    assert turn.prompt.text.endswith("<|im_start|>assistant\n" + edited)  # open: no <|im_end|> after it
    assert engine.evaluated_ids[: len(turn.prompt.ids)] == turn.prompt.ids  # fed exactly those ids
    follow = chat.prepare("And another?").prompt.text
    assert edited + added + "<|im_end|>" in follow  # the next turn sends the edited reply as the model's
