"""The process that renders chat templates, apart from the app, under limits.

A chat template is a program from a file off the internet. Jinja's sandbox stops it from reaching
Python internals, but not from looping for hours or building a string of gigabytes. So templates run
here, in a long-lived child process (started once, not per render: the inspector renders on every
keystroke): its memory is capped by ``RLIMIT_AS``, its output by a byte budget the app sends with each
request, and the app kills and restarts it when a render takes too long or is cancelled.

The Jinja environment is set up as Hugging Face transformers' ``apply_chat_template`` sets up its own:
trimmed blocks, ``loopcontrols``, a ``{% generation %}`` tag, a ``tojson`` that keeps non-ASCII text,
``raise_exception`` and ``strftime_now``; the tests compare our output with transformers itself.

Protocol: one JSON object per line each way. Request ``{"source", "messages", "add_generation_prompt",
"bos_token", "eos_token", "extra", "limit"}``; reply ``{"text"}`` or ``{"error", "kind"}``. A request
``{"source", "op": "variables"}`` asks which variables the template reads: ``{"variables": [...]}``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.ext
import jinja2.nodes
import jinja2.parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

MEMORY_LIMIT = 1 << 30
"""Address space for this process: far more than any honest template needs."""
MAX_RANGE = 100_000
MAX_POWER = 4096


class TemplateLimit(jinja2.exceptions.TemplateError):
    """The template tried to build something larger than the output budget."""


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


class _LimitedCodeGenerator(jinja2.compiler.CodeGenerator):
    """Routes ``a ~ b`` through the environment, so string building by concatenation is bounded too."""

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        self.write("environment.limited_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox plus size checks on the operators that can make big values from small ones."""

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+"})
    budget = 1 << 20
    """Largest string or list a template may build; set per request from the context size."""

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise TemplateLimit(f"exponent {right} is too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    self._check_size(len(seq) * times)
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            self._check_size(len(left) + len(right))
        return super().call_binop(context, operator, left, right)

    def limited_concat(self, parts: Iterable[Any]) -> str:
        text = "".join(str(part) for part in parts)
        self._check_size(len(text))
        return text

    def _check_size(self, size: int) -> None:
        if size > self.budget:
            raise TemplateLimit(
                f"the template built a value of {size:,} characters (at most {self.budget:,})"
            )


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


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise TemplateLimit(f"range() of {len(result):,} items (at most {MAX_RANGE:,})")
    return result


@lru_cache(maxsize=16)
def compile_template(source: str) -> jinja2.Template:
    env = LimitedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_GenerationTag, jinja2.ext.loopcontrols],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["namespace"] = _GuardedNamespace
    env.globals["range"] = _range
    return env.from_string(source)


def render(request: dict[str, Any]) -> str:
    """Render one request; output stops with `TemplateLimit` once it passes the byte budget."""
    template = compile_template(request["source"])
    limit = int(request["limit"])
    env = template.environment
    assert isinstance(env, LimitedEnvironment)
    env.budget = limit
    context = {
        **request.get("extra", {}),
        "messages": request["messages"],
        "tools": None,
        "documents": None,
        "add_generation_prompt": request["add_generation_prompt"],
        "bos_token": request["bos_token"],
        "eos_token": request["eos_token"],
    }
    size, parts = 0, []
    for part in template.generate(**context):
        size += len(part)
        if size > limit:
            raise TemplateLimit(f"the output passed {limit:,} characters (16 per token of context)")
        parts.append(part)
    return "".join(parts)


def variables(source: str) -> list[str]:
    """Every variable the template reads from its context (Jinja's own analysis of the source)."""
    from jinja2 import meta

    env = compile_template(source).environment
    return sorted(meta.find_undeclared_variables(env.parse(source)))


def answer(request: dict[str, Any]) -> dict[str, Any]:
    try:
        if request.get("op") == "variables":
            return {"variables": variables(request["source"])}
        return {"text": render(request)}
    except jinja2.TemplateSyntaxError as exc:
        return {"kind": "syntax", "error": f"syntax error on line {exc.lineno}: {exc.message}"}
    except TemplateLimit as exc:
        return {"kind": "limit", "error": str(exc)}
    except jinja2.exceptions.SecurityError as exc:
        return {"kind": "security", "error": f"refused by the sandbox: {exc}"}
    except jinja2.TemplateError as exc:
        return {"kind": "template", "error": str(exc)}
    except MemoryError:
        return {"kind": "limit", "error": "ran out of the memory allowed to templates"}
    except RecursionError:
        return {"kind": "limit", "error": "recursed too deeply"}
    except Exception as exc:  # noqa: BLE001 - any failure of any template is an answer, not a crash
        return {"kind": "runtime", "error": f"{type(exc).__name__}: {exc}"}


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):
        pass  # no rlimit here (Windows): the time limit still applies


PARENT_ENV = "LLM_TUI_SANDBOX_PARENT"
"""The process id of the llm-tui that started the renderer (it may be gone before we look)."""
PARENT_CHECK_SECONDS = 0.25
"""How often the renderer checks that llm-tui still runs (it ends within this once it does not)."""


def _end_with_parent() -> None:
    """End this process as soon as the llm-tui that started it is gone, however it went (ctrl+c,
    SIGTERM, SIGKILL): a hostile template must not keep a core busy for hours after it. The
    parent's death is seen as a new parent id (this process runs in a session of its own)."""
    parent = int(os.environ.get(PARENT_ENV, "0") or 0) or os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def main() -> None:
    _end_with_parent()
    _limit_memory()
    sys.setrecursionlimit(400)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    for line in stdin:
        try:
            reply = answer(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"kind": "protocol", "error": f"bad request: {exc}"}
        try:
            data = json.dumps(reply).encode("ascii")
        except MemoryError:
            data = b'{"kind": "limit", "error": "the reply was too large"}'
        stdout.write(data + b"\n")
        stdout.flush()


if __name__ == "__main__":
    main()
