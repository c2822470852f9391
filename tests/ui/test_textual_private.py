"""The three private Textual names llm-tui still uses, pinned: a Textual release that renames or
retires one fails here, with the reason, instead of in a user's hands."""

from __future__ import annotations

import inspect

from textual.app import App
from textual.widgets import TextArea

from tui.ui.app import key_problem
from tui.ui.widgets.chat_input import ChatInput


def test_app_handle_exception_is_still_where_crashes_pass() -> None:
    """`LlmTuiApp._handle_exception` writes the crash report (no public hook exists)."""
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]


def test_text_area_still_inserts_keys_in_on_key() -> None:
    """`ChatInput._on_key` must run before TextArea inserts the key (enter sends)."""
    assert inspect.iscoroutinefunction(TextArea._on_key)
    assert "_replace_via_keyboard" in inspect.getsource(TextArea._on_key)  # where it inserts
    assert ChatInput._on_key is not TextArea._on_key


def test_character_key_names_are_read_through_the_public_api() -> None:
    assert key_problem("chat.inspector", "left_square_bracket") is not None  # typed into the box
    assert key_problem("inspector.earlier", "left_square_bracket") is None
    assert key_problem("inspector.earlier", "left_sqare_bracket") is not None  # a typo is not a key
    assert key_problem("chat.inspector", "delete") is None  # a key, though unicode names a character


async def test_the_linux_driver_still_writes_through_its_file() -> None:
    """`OutlivingDriver` wraps ``LinuxDriver._file``, what Textual's writer thread writes to: a
    terminal that closes must not kill that thread and, with it, the app's quit."""
    from textual.drivers.linux_driver import LinuxDriver

    from tui.ui.terminal_driver import GoneSafe, OutlivingDriver

    assert "WriterThread(self._file)" in inspect.getsource(LinuxDriver.start_application_mode)
    driver = OutlivingDriver(App())
    assert isinstance(driver._file, GoneSafe)
