"""The chat driver without a screen: waiting messages, stopping, which persona the record names,
and a record that could not be written said, not raised."""

from __future__ import annotations

from pathlib import Path

from tui.core.chat.driver import ChatDriver
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.chat.settings import Overrides
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.core.personas.format import Persona
from tui.paths import get_paths

PIRATE = Persona(id="pirate", name="Pirate", system="Talk like a pirate.")


def test_system_flag_wins_until_a_persona_is_picked() -> None:
    driver = ChatDriver("pirate", True, Overrides(system="Be terse.", replace_system=True, thinking=False))
    assert driver.settings(PIRATE).system == "Be terse." and driver.saved_persona() is None
    driver.use_persona("pirate")
    settings = driver.settings(PIRATE)
    assert settings.system == "Talk like a pirate." and settings.variables == {"enable_thinking": False}
    assert driver.saved_persona() == "pirate"


def test_waiting_messages_and_stopping(llm_home: Path, model_path: Path) -> None:
    driver = ChatDriver("no-system", False, base=Sampling(max_tokens=4, seed=1))
    driver.pending.append("hello")
    assert driver.reply_ended() is None  # no model yet: the message keeps waiting
    engine = Engine(model_path, LoadOptions(n_ctx=512))
    driver.chat = Chat.start(engine, driver.settings(None))
    assert driver.idle_chat() is None  # a message is waiting
    assert driver.reply_ended() == "hello" and driver.idle_chat() is driver.chat
    cancel = driver.begin_reply()
    assert driver.busy and driver.idle_chat() is None
    list(driver.chat.send("hello", cancel))
    assert driver.stop() and cancel.is_set()
    driver.reply_ended()
    assert not driver.stop() and not driver.busy
    said: list[str] = []
    driver.saver(get_paths(), engine.info, said.append)(driver.chat.session)
    assert not said and list(get_paths().sessions.glob("*.json"))
    for saved in get_paths().sessions.glob("*.json"):
        saved.unlink()
    get_paths().sessions.rmdir()
    get_paths().sessions.write_text("a file where the folder was")  # (the tests run as root too)
    list(driver.chat.send("again"))
    driver.saver(get_paths(), engine.info, said.append)(driver.chat.session)
    engine.close()
    assert said and said[0].startswith("Could not save the session transcript")


def test_messages_still_waiting_are_kept_as_unanswered_not_dropped() -> None:
    """Queued behind a reply when a new session starts (or the app quits): kept, with why."""
    from tests.ui.helpers import FakeEngine

    driver = ChatDriver("almo", False)
    driver.pending += ["first", "second"]
    driver.stop_everything("the app was closed")
    assert driver.unsent == ["first", "second"] and driver.pending == []  # no model yet: given back
    driver.chat = Chat(FakeEngine(), None, Sampling())
    driver.pending.append("third")
    driver.begin_reply()
    driver.stop_everything("a new session started")
    (kept,) = driver.chat.session.unanswered
    assert kept.user == "third" and kept.why == "not sent: a new session started"
    assert driver.cancel is not None and driver.cancel.is_set()
