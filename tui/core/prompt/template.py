"""Chat templates rendered the way Hugging Face transformers renders them, and never trusted.

A GGUF carries the model's own Jinja chat template (``tokenizer.chat_template``). It is rendered in
`tui.core.prompt.sandbox`, a child process with a memory cap, under a time limit and an output
budget: a template that loops for ever, builds gigabytes, needs tools we do not send or is not even
valid Jinja becomes one `TemplateRenderError` naming the template and its complaint. The child is
started once and reused, so rendering on every keystroke (the inspector) stays cheap.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from tui.core.problems import Problem, ProblemError
from tui.core.prompt.messages import Message, ThinkingStyle

FALLBACK_FORMAT = "chatml"
TIME_LIMIT = 3.0
"""Seconds one render may take; real templates take milliseconds."""
BYTES_PER_CONTEXT_TOKEN = 16
MIN_OUTPUT = 1 << 16
MAX_SOURCE = 256 * 1024
"""Real chat templates are a few kilobytes; gpt-oss's, among the largest, is about 15 KB."""
_POLL = 0.05


MAX_REASON = 500
"""Characters of a template's own complaint shown (it is one line, however it was written)."""


class TemplateRenderError(ProblemError):
    """The template refused the conversation (``raise_exception``) or could not be rendered."""

    def __init__(self, template_name: str, reason: str, kind: str = "template") -> None:
        reason = " ".join(reason.split())[:MAX_REASON]  # a raise_exception text adds no lines of its own
        super().__init__(Problem(f"chat template ({template_name})", reason))
        self.template_name = template_name
        self.reason = reason
        self.kind = kind


class RenderCancelled(TemplateRenderError):
    """The caller gave up on the render (a newer keystroke, a quit)."""


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template and where it came from (shown to the user next to the prompt)."""

    source: str
    name: str
    bos_token: str = ""
    eos_token: str = ""
    is_fallback: bool = False
    n_ctx: int = 4096
    """The context it renders for: the output budget is 16 bytes per token of it."""

    @property
    def output_limit(self) -> int:
        return max(MIN_OUTPUT, BYTES_PER_CONTEXT_TOKEN * self.n_ctx)

    variables: tuple[tuple[str, object], ...] = ()
    """The template's own variables, as ``apply_chat_template(**kwargs)`` passes them
    (``enable_thinking``, ``reasoning_effort``, ...): from the persona, ``--thinking``, the TUI."""

    @property
    def thinking_style(self) -> ThinkingStyle:
        """How this template wants earlier thinking passed (see `Message.as_dict`)."""
        if "reasoning_content" in self.source:
            return "reasoning_content"
        if re.search(r"""\.thinking\b|\[["']thinking["']\]""", self.source):
            return "thinking"
        return "written"

    @property
    def thinking_format(self) -> Literal["think", "harmony", "none"]:
        """How replies under this template mark thinking (tui.core.chat.thinking): harmony channels,
        ``<think>`` blocks, or "none" for a template that knows no thinking (a ``<think>`` that a
        plain model happens to write is then just text)."""
        if "<|channel|>" in self.source:
            return "harmony"
        return "think" if "think>" in self.source else "none"

    def with_variables(self, variables: Mapping[str, object]) -> ChatTemplate:
        return replace(self, variables=tuple(sorted(variables.items())))

    def variables_read(self) -> frozenset[str]:
        """The variables the template reads (messages, add_generation_prompt, ... and its own)."""
        return _variables_read(self.source, self.name)

    def render(
        self,
        messages: Sequence[Message],
        add_generation_prompt: bool = True,
        cancel: threading.Event | None = None,
        continue_final: bool = False,
    ) -> str:
        """Render as transformers' ``apply_chat_template(..., tokenize=False, **variables)``, limited."""
        self._check_size()
        style = self.thinking_style
        dicts = [m.as_dict(style) for m in messages]
        final = ""
        if continue_final:  # as transformers' continue_final_message: the last message left open
            if not dicts:
                raise TemplateRenderError(self.name, "there is no message to continue", "template")
            final = dicts[-1]["content"]
            dicts[-1]["content"] = final + CONTINUE_TAG
            add_generation_prompt = False
        request = {
            "source": self.source,
            "messages": dicts,
            "add_generation_prompt": add_generation_prompt,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
            "extra": dict(self.variables),
            "limit": self.output_limit,
        }
        reply = SANDBOX.ask(request, self.name, cancel)
        if "text" in reply:
            text = str(reply["text"])
            return _cut_at_tag(text, final, self.name) if continue_final else text
        kind, reason = str(reply.get("kind", "template")), str(reply.get("error", "failed"))
        raise TemplateRenderError(self.name, _explain(self.source, kind, reason), kind)

    def _check_size(self) -> None:
        if len(self.source) > MAX_SOURCE:
            raise TemplateRenderError(
                self.name, f"{len(self.source):,} characters long; templates over {MAX_SOURCE:,} are refused"
            )


def template_from_file(path: Path, base: ChatTemplate) -> ChatTemplate:
    """``base`` with its source replaced by the Jinja template in ``path`` (``--chat-template-file``):
    for a model whose own template is broken or outdated, and for tests. Named after the file."""
    from tui.core.safe_read import UnreadableFile, read_text_bounded

    try:
        source = read_text_bounded(path, MAX_SOURCE)
    except (OSError, UnreadableFile) as exc:
        reason = exc.reason if isinstance(exc, UnreadableFile) else (exc.strerror or str(exc))
        raise ProblemError(Problem(str(path), f"cannot be used as a chat template: {reason}")) from exc
    if not source.strip():
        raise ProblemError(Problem(str(path), "cannot be used as a chat template: the file is empty"))
    return replace(base, source=source, name=f"the chat template from {path}", is_fallback=False)


CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
"""Appended to the message to continue, found in the output, and cut there (transformers' own tag)."""


def _cut_at_tag(text: str, final: str, name: str) -> str:
    """The rendered text up to where the final message's own text ends."""
    if final.strip() not in text or CONTINUE_TAG.strip() not in text:
        raise TemplateRenderError(
            name,
            "this template cannot continue a message: it changes or drops the final message's text",
            "template",
        )
    at = text.rindex(CONTINUE_TAG.strip())
    return text[:at] if text[at : at + len(CONTINUE_TAG)] == CONTINUE_TAG else text[:at].rstrip()


RENDERER_NAMES = frozenset(
    {"self", "loop", "caller", "varargs", "kwargs", "range", "dict", "lipsum", "cycler", "joiner"}
    | {"namespace", "raise_exception", "strftime_now", "true", "false", "none", "True", "False", "None"}
)
"""Names the template language or the renderer gives meaning to: a persona value must not hide them."""
RESERVED = frozenset({"messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"})
"""Variables llm-tui itself passes: a persona's [template] table may not set them."""


@functools.lru_cache(maxsize=32)
def _variables_read(source: str, name: str) -> frozenset[str]:
    reply = SANDBOX.ask({"source": source, "op": "variables"}, name, None)
    if "variables" not in reply:
        raise TemplateRenderError(name, str(reply.get("error", "failed")), str(reply.get("kind", "template")))
    return frozenset(str(v) for v in reply["variables"])


def _explain(source: str, kind: str, reason: str) -> str:
    """Say what a user can do about the common failures, not only what Jinja said."""
    if kind == "runtime" and "NoneType" in reason and "tools" in source:
        return (
            "this template needs tool definitions (function calling), which llm-tui does not send "
            f"({reason}); pick a model whose template works without tools"
        )
    return reason


class _Sandbox:
    """The long-lived child process that renders templates; restarted when it is killed or dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._poisoned: dict[str, str] = {}
        """Templates that ran out of time, by source: they fail at once next time instead of again."""

    def start(self) -> None:
        """Start the child now (in the background of a model load), so the first render is quick."""
        with self._lock:
            self._ensure()

    def ask(self, request: dict[str, Any], name: str, cancel: threading.Event | None) -> dict[str, Any]:
        source = str(request["source"])
        if source in self._poisoned:
            raise TemplateRenderError(name, self._poisoned[source], "limit")
        data = json.dumps(request).encode("ascii") + b"\n"
        with self._lock:
            process = self._ensure()
            try:
                assert process.stdin is not None
                process.stdin.write(data)
                process.stdin.flush()
                line = self._read_line(process, cancel)
            except RenderCancelled:
                self._kill()
                raise RenderCancelled(name, "cancelled", "cancelled") from None
            except TimeoutError:
                self._kill()
                reason = f"took longer than {TIME_LIMIT:.0f} s to render and was stopped"
                self._poisoned[source] = reason
                raise TemplateRenderError(name, reason, "limit") from None
            except (OSError, EOFError) as exc:
                self._kill()
                raise TemplateRenderError(name, f"the template sandbox stopped ({exc})", "limit") from exc
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise TemplateRenderError(name, "the template sandbox answered nonsense", "protocol")
        return reply

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._buffer = b""
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tui.core.prompt.sandbox"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={
                    **os.environ,
                    "PYTHONIOENCODING": "utf-8",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "LLM_TUI_SANDBOX_PARENT": str(os.getpid()),  # it ends when we do (sandbox.py)
                },
                start_new_session=True,  # ctrl+c in a terminal reaches us, not the renderer
            )
        return self._process

    def _read_line(self, process: subprocess.Popen[bytes], cancel: threading.Event | None) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + TIME_LIMIT
        while b"\n" not in self._buffer:
            if cancel is not None and cancel.is_set():
                raise RenderCancelled("", "cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], min(left, _POLL))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise EOFError("it exited")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _kill(self) -> None:
        process, self._process, self._buffer = self._process, None, b""
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                process.wait(timeout=2)
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()

    def close(self) -> None:
        """Stop the child now, even mid-render (the render then fails at once): for quitting."""
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()


SANDBOX = _Sandbox()


def fallback_template(bos_token: str = "", eos_token: str = "", n_ctx: int = 4096) -> ChatTemplate:
    """The named format used when a GGUF has no template: llama-cpp-python's ChatML, as Jinja."""
    return ChatTemplate(
        source=_fallback_source(FALLBACK_FORMAT),
        name=f"fallback format '{FALLBACK_FORMAT}' (the model has no chat template)",
        bos_token=bos_token,
        eos_token=eos_token,
        is_fallback=True,
        n_ctx=n_ctx,
    )


def _fallback_source(name: str) -> str:
    from llama_cpp import llama_chat_format

    sources: dict[str, str] = {"chatml": llama_chat_format.CHATML_CHAT_TEMPLATE}
    return sources[name]
