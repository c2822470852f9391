"""One token per character: enough to test prompt building (folding, spans, parts) without a model."""

from __future__ import annotations

from collections.abc import Mapping

from tui.core.prompt.build import ControlToken


class CharTokenizer:
    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return [ord(c) for c in text]

    def piece(self, token: int) -> bytes:
        return chr(token).encode()

    def is_special(self, token: int) -> bool:
        return False

    def control_tokens(self) -> Mapping[str, ControlToken]:
        return {}
