"""f1 lists every key with the id `[keymap]` needs, and keys as characters, not Textual's names."""

from __future__ import annotations

from tui.ui.actions import ACTIONS
from tui.ui.screens.help import _keys_table, shown_key


def test_every_action_is_listed_with_its_keymap_id() -> None:
    table = _keys_table({})
    for action in ACTIONS:
        assert f"`{action.id}`" in table


def test_keys_read_as_characters() -> None:
    assert shown_key("left_square_bracket") == "["
    assert shown_key("right_square_bracket") == "]"
    assert shown_key("alt+left") == "alt+left" and shown_key("f5") == "f5" and shown_key("ctrl+q") == "ctrl+q"
    table = _keys_table({})
    assert "left_square_bracket" not in table and "| `[` |" in table


def test_a_rebound_key_shows_as_bound() -> None:
    assert "| `ctrl+b` | " in _keys_table({"chat.new_session": "ctrl+b"})
