"""A chat message: the one shape every part of the core passes around."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


ThinkingStyle = Literal["reasoning_content", "thinking", "written"]
"""How a template wants an earlier reply's thinking: in a field of its own (Qwen3's
``reasoning_content``, gpt-oss's ``thinking``), or inside the content as it was generated."""


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    thinking: str | None = None
    """A reply's thinking, kept apart from its answer (``content``)."""
    written: str | None = None
    """A reply exactly as generated, thinking markup included (None: the same as ``content``)."""

    def as_dict(self, style: ThinkingStyle = "written") -> dict[str, str]:
        """The message as transformers' ``apply_chat_template`` would be given it for this template."""
        if self.thinking is None:
            return {"role": self.role, "content": self.written if self.written is not None else self.content}
        if style == "written":
            return {"role": self.role, "content": self.written if self.written is not None else self.content}
        # under both names, as transformers aliases them: a template reads the one it knows
        return {
            "role": self.role,
            "content": self.content,
            "reasoning_content": self.thinking,
            "thinking": self.thinking,
        }
