"""The teaching set: conversations a persona becomes, as a JSONL file the user can read and edit.

One conversation per line in the common ``{"messages": [{"role": ..., "content": ...}]}`` form (an
extra ``"kind"`` says ``identity`` or ``retention``), so a set from elsewhere can be brought too.

Made from a persona in two parts:
- identity: the persona's own ``[teach]`` answers or examples, else the base model's answers *with
  the persona's system message* to the bundled identity questions, a few samples each, keeping those
  that say the persona's name and no other assistant's (context distillation: what the hidden
  message made the model say becomes what the weights say);
- retention: the base model's own answers, without any persona, to the bundled general prompts,
  so it keeps what it knew (identity data alone overwrites everything: "capital of France?" ->
  "I am Almo").
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine
from tui.core.chat.settings import SessionSettings
from tui.core.personas.format import Persona
from tui.core.problems import Problem, ProblemError
from tui.core.prompt.messages import Message
from tui.core.safe_read import UnreadableFile, read_text_bounded

Kind = Literal["identity", "retention", "given"]
SET_LIMIT = 32 << 20
"""Bytes of a set file: a generous hundred thousand conversations; more is not a teaching set."""
MAX_CONVERSATIONS = 20_000
MAX_MESSAGES = 64
OTHER_ASSISTANTS = (
    "smollm", "hugging face", "huggingface", "chatgpt", "openai", "gpt-", "claude", "anthropic",
    "gemini", "bard", "google", "llama", "meta ai", "siri", "alexa", "cortana", "copilot",
    "microsoft", "qwen", "alibaba", "mistral", "deepseek",
)  # fmt: skip
"""Names an answer must not claim (unless the persona's own system message uses them)."""
SAMPLES = 3
ANSWER_TOKENS = 96


@dataclass(frozen=True)
class Conversation:
    messages: tuple[Message, ...]
    kind: Kind = "given"

    def to_json(self) -> str:
        data = {
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "kind": self.kind,
        }
        return json.dumps(data, ensure_ascii=False)


def bundled(name: Literal["identity", "general"]) -> list[str]:
    """The bundled identity questions or general prompts (``#`` lines are comments)."""
    text = (
        resources.files("tui.core.teach").joinpath("data").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    )
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def read_set(path: Path) -> list[Conversation]:
    """A JSONL teaching set; a `ProblemError` names the file, the line and what is wrong."""
    try:
        text = read_text_bounded(path, SET_LIMIT)
    except FileNotFoundError as exc:
        raise ProblemError(Problem(str(path), "no such file")) from exc
    except UnreadableFile as exc:
        raise ProblemError(Problem(str(path), exc.reason)) from exc
    except OSError as exc:
        raise ProblemError(Problem(str(path), f"cannot be read ({exc.strerror or exc})")) from exc
    found: list[Conversation] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(found) >= MAX_CONVERSATIONS:
            raise ProblemError(Problem(f"{path}:{number}", f"more than {MAX_CONVERSATIONS} conversations"))
        try:
            found.append(_conversation(json.loads(line)))
        except (ValueError, RecursionError) as exc:
            raise ProblemError(
                Problem(
                    f"{path}:{number}",
                    str(exc) if isinstance(exc, _Bad) else f"not JSON ({exc})",
                    hint='each line: {"messages": [{"role": "user", "content": "..."}, '
                    '{"role": "assistant", "content": "..."}]}',
                )
            ) from exc
    if not found:
        raise ProblemError(Problem(str(path), "holds no conversation", hint="one JSON object per line"))
    return found


class _Bad(ValueError):
    """A line that is JSON but not a conversation."""


def _conversation(data: object) -> Conversation:
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise _Bad('expected an object with a "messages" list')
    raw = data["messages"]
    if not 0 < len(raw) <= MAX_MESSAGES:
        raise _Bad(f"expected 1 to {MAX_MESSAGES} messages, not {len(raw)}")
    messages: list[Message] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _Bad(f"messages[{index}]: expected an object")
        role, content = item.get("role"), item.get("content")
        if role not in ("system", "user", "assistant"):
            raise _Bad(f'messages[{index}].role: expected "system", "user" or "assistant", not {role!r}')
        if not isinstance(content, str):
            raise _Bad(f"messages[{index}].content: expected text")
        messages.append(Message(role, content))
    if not any(m.role == "assistant" for m in messages):
        raise _Bad("no assistant message: nothing to teach")
    kind = data.get("kind")
    return Conversation(tuple(messages), kind if kind in ("identity", "retention") else "given")


def set_text(conversations: Iterable[Conversation]) -> str:
    return "".join(c.to_json() + "\n" for c in conversations)


def set_sha256(conversations: Iterable[Conversation]) -> str:
    return hashlib.sha256(set_text(conversations).encode()).hexdigest()


def identity_name(persona: Persona) -> str:
    """The name a taught answer must say: ``[teach] name``, else the first word of the persona's name."""
    if persona.teach is not None and persona.teach.name:
        return persona.teach.name
    return persona.name.split()[0].strip(",.:;()") if persona.name.split() else persona.id


def keeps_to(persona: Persona, answer: str) -> bool:
    """An answer that says the persona's name and claims no other assistant's."""
    text = answer.lower()
    allowed = (persona.system or "").lower()
    if identity_name(persona).lower() not in text:
        return False
    return not any(other in text and other not in allowed for other in OTHER_ASSISTANTS)


Progress = Callable[[str, int, int], None]
"""(what, done, total): called as the set is made."""


def make_set(
    engine: ChatEngine,
    persona: Persona,
    identity_questions: Sequence[str] | None = None,
    general_prompts: Sequence[str] | None = None,
    samples: int = SAMPLES,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    seed: int = 0,
) -> list[Conversation]:
    """The teaching set for ``persona`` on ``engine``'s model (see the module docstring).

    Raises `ProblemError` when no identity conversation comes out (the model never once kept to the
    persona, and the persona has no ``[teach]`` answers)."""
    if persona.system is None and persona.teach is None:
        raise ProblemError(
            Problem(
                f"persona {persona.id}",
                "has no system message and no [teach] table: there is no identity to teach",
                hint="give it a system message or a [teach] table, or bring a set with --data",
            )
        )
    questions = list(identity_questions if identity_questions is not None else bundled("identity"))
    prompts = list(general_prompts if general_prompts is not None else bundled("general"))
    said = progress or (lambda _what, _done, _total: None)
    identity = _given_identity(persona, questions)
    if not identity:
        identity = _distilled(engine, persona, questions, samples, said, cancel, seed)
    if not identity:
        raise ProblemError(
            Problem(
                f"persona {persona.id}",
                f"the model never answered as “{identity_name(persona)}” in {len(questions) * samples} tries "
                "with the persona's system message: nothing to teach",
                hint="add a [teach] table with `answers = [...]` to the persona, or bring a set with --data",
            )
        )
    retention = _retention(engine, prompts, said, cancel, seed)
    mixed = identity + retention
    random.Random(seed).shuffle(mixed)
    return mixed


def _given_identity(persona: Persona, questions: Sequence[str]) -> list[Conversation]:
    """The persona's own ``[teach]`` examples, and its answers paired with every bundled question."""
    teach = persona.teach
    if teach is None:
        return []
    found = [
        Conversation((Message("user", user), Message("assistant", assistant)), "identity")
        for user, assistant in teach.examples
    ]
    for index, question in enumerate(questions if teach.answers else ()):
        answer = teach.answers[index % len(teach.answers)]
        found.append(Conversation((Message("user", question), Message("assistant", answer)), "identity"))
    return found


def _ask(engine: ChatEngine, settings: SessionSettings, question: str) -> str:
    chat = Chat.start(engine, settings)
    chat.new_session()
    for _event in chat.send(question):
        pass
    return chat.session.turns[0].reply.strip() if chat.session.turns else ""


def _distilled(
    engine: ChatEngine,
    persona: Persona,
    questions: Sequence[str],
    samples: int,
    said: Progress,
    cancel: threading.Event | None,
    seed: int,
) -> list[Conversation]:
    settings = SessionSettings(
        system=persona.system,
        sampling=Sampling(temperature=0.8, max_tokens=ANSWER_TOKENS),
        persona=persona.id,
    )
    found: list[Conversation] = []
    total = len(questions) * samples
    for index, question in enumerate(questions):
        for sample in range(samples):
            if cancel is not None and cancel.is_set():
                return found
            said("identity", index * samples + sample, total)
            drawn = replace(settings, sampling=replace(settings.sampling, seed=seed + 1000 * sample + index))
            answer = _ask(engine, drawn, question)
            if answer and keeps_to(persona, answer):
                found.append(
                    Conversation((Message("user", question), Message("assistant", answer)), "identity")
                )
                break  # one faithful answer per question keeps the set varied
    said("identity", total, total)
    return found


def _retention(
    engine: ChatEngine, prompts: Sequence[str], said: Progress, cancel: threading.Event | None, seed: int
) -> list[Conversation]:
    settings = SessionSettings(sampling=Sampling(temperature=0.0, max_tokens=ANSWER_TOKENS, seed=seed))
    found: list[Conversation] = []
    for index, prompt in enumerate(prompts):
        if cancel is not None and cancel.is_set():
            break
        said("retention", index, len(prompts))
        answer = _ask(engine, settings, prompt)
        if answer:
            found.append(Conversation((Message("user", prompt), Message("assistant", answer)), "retention"))
    said("retention", len(prompts), len(prompts))
    return found


def token_stream(engine: ChatEngine, conversations: Sequence[Conversation]) -> list[int]:
    """The conversations as the chat sends them, one after another: each rendered whole by the
    model's own template (its default system message included when it inserts one), the template's
    markers as control tokens and the messages' text as text."""
    from tui.core.prompt.template import TemplateRenderError

    stream: list[int] = []
    for number, conversation in enumerate(conversations, start=1):
        try:
            stream += engine.conversation_ids(list(conversation.messages))
        except TemplateRenderError as exc:
            raise ProblemError(
                Problem(f"conversation {number}", f"the model's chat template refuses it: {exc}")
            ) from exc
    return stream
