"""How llm-tui gets a model loaded the way llama.cpp's own programs load it, through ``Llama()``.

`llama.Engine` loads inside `loading_as_llama_cpp`; llama.cpp's log sink (in `llama.py`) keeps
the lines in which llama.cpp says what it chose (`DECISIONS`), read back by `resolved_flash_attn`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

DECISIONS: list[str] = []
"""What llama.cpp said it chose for a setting left to it ("Flash Attention enabled"), kept apart
from the bounded log, which a load's debug lines can overflow."""


class _NoChatHandler:
    """Stands in for llama-cpp-python's template handler while a model loads (see below)."""

    def __init__(self, **_kwargs: Any) -> None:
        pass

    def to_chat_handler(self) -> None:
        return None


LOAD_PATCH = threading.Lock()

KV_TYPES = {
    "f32": 0,
    "f16": 1,
    "q4_0": 2,
    "q4_1": 3,
    "q5_0": 6,
    "q5_1": 7,
    "q8_0": 8,
    "iq4_nl": 20,
    "bf16": 30,
}
"""ggml's type numbers for the KV cache types llama.cpp's programs accept (``enum ggml_type``)."""
FLASH_ATTN = {"auto": -1, "off": 0, "on": 1}  # enum llama_flash_attn_type


@contextlib.contextmanager
def loading_as_llama_cpp(context: Mapping[str, int], model: Mapping[str, int | bool]) -> Iterator[None]:
    """Load through ``Llama()`` with llama.cpp's own settings and without its template handling.

    ``Llama()`` takes some of llama.cpp's parameters under its own defaults and cannot express
    others (flash attention "auto", weight repacking): the ``context`` and ``model`` fields given
    here are written into the C parameter structs just before llama.cpp sees them.

    It also compiles every template in the GGUF with an unlimited Jinja environment, for its own
    chat API, which llm-tui never uses: it renders templates itself, in the limited sandbox. A broken
    or hostile template must not stop the model from loading (the inspector shows what is wrong).
    """
    from llama_cpp import _internals as internals
    from llama_cpp import llama_chat_format as formats  # the modules ``Llama()`` looks them up in

    class Context(internals.LlamaContext):
        def __init__(self, *, params: Any, **kwargs: Any) -> None:
            for name, value in context.items():
                setattr(params, name, value)
            super().__init__(params=params, **kwargs)

    class Model(internals.LlamaModel):
        def __init__(self, *, params: Any, **kwargs: Any) -> None:
            for name, value in model.items():
                setattr(params, name, value)
            super().__init__(params=params, **kwargs)

    patches = [(formats, "Jinja2ChatFormatter", _NoChatHandler), (internals, "LlamaContext", Context)]
    patches.append((internals, "LlamaModel", Model))
    with LOAD_PATCH:
        DECISIONS.clear()
        originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
        try:
            for module, name, stand_in in patches:
                setattr(module, name, stand_in)
            yield
        finally:
            for module, name, original in originals:
                setattr(module, name, original)


def resolved_flash_attn(requested: str) -> str:
    """What llama.cpp made of the flash-attention setting, from what it logged while loading."""
    if requested != "auto":
        return requested
    for line in reversed(DECISIONS):
        if "Flash Attention" in line and "enabled" in line:
            return "auto (on)"
        if "Flash Attention" in line and "disabled" in line:
            return "auto (off)"
    return "auto"
