"""What every engine shares, so the in-process engine, the llama-server engine and the tests' fake
differ only where they must: how a vocabulary is asked and how tokens are streamed.

The base owns the chat template (the model's own, or one from a file, and back), prompt building,
the context-room check, the one-generation-at-a-time lock and the reply's closing `ReplyStats`.
An engine sets ``info``, ``template`` and ``vocab`` and implements `_stream`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tui.core.chat.sampling import Sampling
from tui.core.engine.values import ContextFullError, EngineError, EngineInfo, Piece, ReplyStats, StopReason
from tui.core.prompt.build import Prompt, Tokenizer, build_prompt, extended
from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate, template_from_file
from tui.core.text_safety import valid_text


@dataclass(frozen=True)
class Request:
    """One reply to stream, checked and resolved by `EngineBase.generate` for the engine's `_stream`."""

    prompt: Prompt
    sampling: Sampling
    """Resolved: its seed is set."""
    seed: int
    tokens: int
    """How many tokens the reply may have: ``max_tokens``, or what the context has room for."""
    stop: StopReason
    """Why it stops if it uses them all."""
    cancel: threading.Event
    confidence: bool


class Clock:
    """The reply's timing, counted the same way by every engine: first and last sampled token."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first = 0.0
        self.last = 0.0
        self.count = 0

    def token(self) -> None:
        """A token was sampled now (whether it is shown or ends the turn)."""
        self.last = time.perf_counter()
        self.first = self.first or self.last

    def stats(self, prompt: Prompt, reused: int, stop: StopReason, seed: int) -> ReplyStats:
        return ReplyStats(
            prompt_tokens=len(prompt.ids),
            reused_tokens=reused,
            completion_tokens=self.count,
            time_to_first_token=(self.first or time.perf_counter()) - self.started,
            decode_seconds=max(0.0, self.last - self.first),
            stop=stop,
            seed=seed,
        )


class EngineBase:
    """A `ChatEngine` (tui.core.chat.session) less the streaming, which each engine brings."""

    info: EngineInfo
    template: ChatTemplate
    own_template: ChatTemplate
    """The model's own (or the fallback): what a template file replaces, and comes back to."""
    vocab: Tokenizer

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def extend_prompt(self, prompt: Prompt, ids: Sequence[int]) -> Prompt:
        """``prompt`` followed by generated ``ids``, fed back as they are (a reply continued from a token)."""
        return extended(prompt, ids, self.vocab)

    def use_template_file(self, path: Path | None) -> None:
        """Replace the model's chat template with the one in ``path`` (the inspector names it);
        None: the model's own again (a persona without a template file after one with)."""
        self.use_template(self.own_template if path is None else template_from_file(path, self.own_template))

    def use_template(self, template: ChatTemplate) -> None:
        """``template`` from now on, named in the info (the probe puts the session's back with it)."""
        self.template = template
        self.info = replace(self.info, template_name=template.name)

    def adopt_template_file(self, path: Path) -> None:
        """The template in ``path`` becomes this model's own (a catalog entry's template file): what
        a persona without a template file comes back to."""
        self.use_template_file(path)
        self.own_template = self.template

    def build_prompt(
        self,
        messages: Sequence[Message],
        parse_special: bool = False,
        variables: Mapping[str, object] | None = None,
        continue_final: bool = False,
    ) -> Prompt:
        template = self.template.with_variables(variables or {})
        self._before_tokenizing(template, messages, continue_final)
        prompt = build_prompt(
            template, messages, self.vocab, parse_special=parse_special, continue_final=continue_final
        )
        notes = self.notes()
        return replace(prompt, notes=(*prompt.notes, *notes)) if notes else prompt

    def conversation_ids(self, messages: Sequence[Message]) -> list[int]:
        """A whole conversation, closed (no cue for a reply), as the chat would send it: what a
        teaching run trains on, so training sees the tokens chatting will send."""
        self._before_tokenizing(self.template, messages, False)
        return build_prompt(self.template, messages, self.vocab, add_generation_prompt=False).ids

    def _before_tokenizing(
        self, template: ChatTemplate, messages: Sequence[Message], continue_final: bool
    ) -> None:
        """A hook: the server engine learns the control tokens the rendered text uses."""

    def notes(self) -> tuple[str, ...]:
        """What the inspector says about this engine beside the prompt (none by default)."""
        return ()

    def generate(
        self,
        prompt: Prompt,
        sampling: Sampling,
        cancel: threading.Event | None = None,
        confidence: bool = False,
    ) -> Iterator[Piece | ReplyStats]:
        """Stream the reply to exactly ``prompt.ids``; the last item is always a `ReplyStats`.

        Setting ``cancel`` stops between tokens (the engine stays usable); ``confidence`` adds each
        token's probability and runners-up to its `Piece`.
        """
        if not prompt.ids:
            raise EngineError(
                f"chat template ({prompt.template_name}): it rendered nothing for this conversation, "
                "so there is no prompt to send"
            )
        sampling = sampling.resolved()
        assert sampling.seed is not None
        room = self.info.n_ctx - len(prompt.ids)
        if room <= 0:
            raise ContextFullError(
                f"the prompt is {len(prompt.ids)} tokens, the context holds {self.info.n_ctx}"
            )
        stop: StopReason = "max_tokens" if sampling.max_tokens <= room else "context_full"
        request = Request(
            prompt, sampling, sampling.seed, min(sampling.max_tokens, room), stop,
            cancel or threading.Event(), confidence,
        )  # fmt: skip
        with self._lock:
            stream = self._stream(request)
            try:
                for item in stream:
                    if isinstance(item, Piece) and (text := valid_text(item.text)) is not item.text:
                        item = replace(item, text=text)  # a server's lone surrogate
                    yield item
            finally:
                stream.close()  # a reply abandoned half-way hangs up its server at once

    def lend_core(self) -> bool:
        """While a screen paints a batch, decode on one core fewer rather than not at all.

        Returns whether a core was lent; where none can be (a fixed thread count, one thread, a
        server), the caller waits for the paint instead. Called between tokens of a reply.
        """
        return False

    def take_core_back(self) -> None:
        """End `lend_core`: from the next token on, decode on every core it may use again."""

    def _stream(self, request: Request) -> Generator[Piece | ReplyStats, None, None]:
        """The engine's own part: stream the reply, ending with `Clock.stats`."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything: no cached prefix is reused afterwards."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
