"""One token per character: enough to test prompt building (folding, spans, parts) without a model."""

from __future__ import annotations


class CharTokenizer:
    def tokenize(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def piece(self, token: int) -> bytes:
        return chr(token).encode()

    def is_special(self, token: int) -> bool:
        return False
