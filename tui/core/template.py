"""Chat templates rendered the way Hugging Face transformers renders them.

A GGUF carries the model's own Jinja chat template (``tokenizer.chat_template``). We render it in a
sandboxed Jinja2 environment set up like transformers' ``apply_chat_template``: trimmed blocks,
``loopcontrols``, a ``{% generation %}`` tag, a ``tojson`` that keeps non-ASCII text, and the
``raise_exception`` and ``strftime_now`` helpers. The tests compare our output with transformers itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tui.core.messages import Message

FALLBACK_FORMAT = "chatml"


class TemplateRenderError(Exception):
    """The template refused the conversation (``raise_exception``) or could not be rendered."""

    def __init__(self, template_name: str, reason: str) -> None:
        super().__init__(f"chat template ({template_name}): {reason}")
        self.template_name = template_name
        self.reason = reason


class _GenerationTag(jinja2.ext.Extension):
    """``{% generation %}…{% endgeneration %}`` marks assistant text for training masks; we only render it."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        call = self.call_method("_render_body")
        return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render_body(self, caller: Callable[[], str]) -> str:
        return caller()


class _GuardedNamespace(jinja2.utils.Namespace):
    """A ``namespace()`` that refuses underscore names, so a template cannot reach Python internals."""

    def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 - same trick as jinja's Namespace
        self, rest = args[0], args[1:]
        attrs = dict(*rest, **kwargs)
        for name in attrs:
            _GuardedNamespace._check(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _GuardedNamespace._check(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name: object) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"namespace attribute {name!r} is not allowed")


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=16)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_GenerationTag, jinja2.ext.loopcontrols],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["namespace"] = _GuardedNamespace
    return env.from_string(source)


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template and where it came from (shown to the user next to the prompt)."""

    source: str
    name: str
    bos_token: str = ""
    eos_token: str = ""
    is_fallback: bool = False

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """Render like transformers' ``apply_chat_template(..., tokenize=False)``."""
        try:
            template = _compile(self.source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateRenderError(self.name, f"syntax error on line {exc.lineno}: {exc}") from exc
        try:
            return template.render(
                messages=[m.as_dict() for m in messages],
                tools=None,
                documents=None,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except jinja2.TemplateError as exc:
            raise TemplateRenderError(self.name, str(exc)) from exc


def fallback_template(bos_token: str = "", eos_token: str = "") -> ChatTemplate:
    """The named format used when a GGUF has no template: llama-cpp-python's ChatML, as Jinja."""
    return ChatTemplate(
        source=_fallback_source(FALLBACK_FORMAT),
        name=f"fallback format '{FALLBACK_FORMAT}' (the model has no chat template)",
        bos_token=bos_token,
        eos_token=eos_token,
        is_fallback=True,
    )


def _fallback_source(name: str) -> str:
    from llama_cpp import llama_chat_format

    sources: dict[str, str] = {"chatml": llama_chat_format.CHATML_CHAT_TEMPLATE}
    return sources[name]
