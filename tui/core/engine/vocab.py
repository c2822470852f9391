"""A model's vocabulary as `tui.core.prompt.build.Tokenizer`: text to ids, ids to bytes, control tokens.

Used by the engine, and on its own for the tokenizer-only GGUFs llama.cpp ships (the tests).
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping

import llama_cpp

from tui.core.prompt.build import ControlToken


class VocabTokenizer:
    """A model's vocabulary as `tui.core.prompt.build.Tokenizer`: also for vocab-only GGUFs (the tests)."""

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self._llm = llm
        self._vocab = llm._model.vocab
        self._controls: dict[str, ControlToken] | None = None

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """No BOS is added (the template writes its own); ``special`` parses control-token text."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, True)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, True)
        return buf.raw[:n]

    def is_special(self, token: int) -> bool:
        attr = llama_cpp.llama_vocab_get_attr(self._vocab, token)
        return bool(attr & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL) or bool(
            llama_cpp.llama_vocab_is_eog(self._vocab, token)
        )

    def control_tokens(self) -> Mapping[str, ControlToken]:
        """The tokens llama.cpp parses out of text only when asked to (control and unknown), once."""
        if self._controls is None:
            wanted = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
            controls: dict[str, ControlToken] = {}
            for token in range(int(self._llm.n_vocab())):
                attr = llama_cpp.llama_vocab_get_attr(self._vocab, token)
                if attr & wanted:
                    name = self.piece(token).decode("utf-8", errors="replace")
                    if name:
                        controls.setdefault(
                            name,
                            ControlToken(
                                token,
                                bool(attr & llama_cpp.LLAMA_TOKEN_ATTR_LSTRIP),
                                bool(attr & llama_cpp.LLAMA_TOKEN_ATTR_RSTRIP),
                            ),
                        )
            self._controls = controls
        return self._controls
