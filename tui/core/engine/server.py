"""The server engine: a model run by llama.cpp's `llama-server`, elsewhere or on this machine.

The prompt stays exact: it is rendered here with the server's own chat template (``/props``),
tokenized by the server's own vocabulary (message text never parsed for special tokens, as
in-process), and generated from those token ids, which the server evaluates as they are (a token
prompt gets no BOS added). Sessions stay memoryless: the slot is pinned, erased when a session
starts, and the first turn of a session asks for no cached prefix. No libllama is loaded here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from tui.core.chat.sampling import Sampling
from tui.core.engine.base import Clock, EngineBase, Request
from tui.core.engine.confidence import TOP, Alternative, Confidence
from tui.core.engine.server_api import ServerAPI, ServerError
from tui.core.engine.values import EngineChanged, EngineInfo, Piece, ReplyStats
from tui.core.hangup import on_stop
from tui.core.prompt.build import ControlToken
from tui.core.prompt.messages import Message
from tui.core.prompt.template import SANDBOX, ChatTemplate
from tui.core.settings.server import ServerSettings

SLOT = 0
"""The slot every request is pinned to, so the session's cache is the one erased."""
PENALTY_LAST_N = 64
"""As in-process (tui.core.engine.sampler): tokens the repeat penalty looks back over."""
TOKEN_ID_LIMIT = 1 << 24
"""Token ids at or past this are refused: the largest vocabularies hold ~260k tokens."""
CONTEXT_LIMIT = 1 << 24
"""A context size past this (16M tokens) is a wrong answer, not a model."""


class ServerModelChanged(ServerError, EngineChanged):
    """The server was restarted with another model: prompts built for the old one must not be sent."""


class ServerTokenizer:
    """The server's vocabulary through ``/tokenize``, as `tui.core.prompt.build` needs it.

    llama-server lists no vocabulary, so control tokens are found in the text being tokenized: a
    token whose text, tokenized again without special parsing, is not that one token is a control
    token. Whether it strips blank space on its left or right (llama.cpp's lstrip/rstrip) is asked
    the same way. Everything learnt is kept for the session with this server.
    """

    def __init__(self, api: ServerAPI) -> None:
        self._api = api
        self._pieces: dict[int, bytes] = {}
        self._controls: dict[str, ControlToken] = {}
        self._plain: set[int] = set()

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        answer = self._api.post(
            "/tokenize",
            {"content": text, "add_special": False, "parse_special": special, "with_pieces": True},
        )
        ids = []
        for item in _list(answer, "tokens"):
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                raise ServerError("/tokenize: expected tokens with an id and a piece")
            ids.append(item["id"])
            self._pieces[item["id"]] = _piece_bytes(item.get("piece"))
        return ids

    def piece(self, token: int) -> bytes:
        if token not in self._pieces:
            answer = self._api.post("/detokenize", {"tokens": [token]})
            self._pieces[token] = str(answer.get("content", "")).encode()
        return self._pieces[token]

    def is_special(self, token: int) -> bool:
        return any(control.id == token for control in self._controls.values())

    def control_tokens(self) -> Mapping[str, ControlToken]:
        return self._controls

    def control_name(self, token: int) -> str:
        """A known control token's text (in-process replies show it; llama-server sends none)."""
        return next((name for name, control in self._controls.items() if control.id == token), "")

    def learn_controls(self, text: str) -> None:
        """Find the control tokens in ``text`` (a rendered prompt) before it is tokenized for real."""
        for token in set(self.tokenize(text, special=True)) - self._plain:
            if any(control.id == token for control in self._controls.values()):
                continue
            name = self._pieces[token].decode("utf-8", errors="replace")
            if len(name) < 2 or self.tokenize(name, special=False) == [token]:
                self._plain.add(token)
                continue
            self._controls[name] = ControlToken(
                token, self._strips(name, token, "x "), self._strips(name, token, " x")
            )

    def _strips(self, name: str, token: int, blank: str) -> bool:
        """Does the control token swallow the blank before (``"x "``) or after (``" x"``) it?"""
        text = blank + name if blank.endswith(" ") else name + blank
        ids = self.tokenize(text, special=True)
        word = self.tokenize("x", special=False)
        return ids == (word + [token] if blank.endswith(" ") else [token] + word)


class ServerEngine(EngineBase):
    """A `ChatEngine` (see tui.core.chat.session) over llama-server's HTTP API."""

    vocab: ServerTokenizer

    def __init__(self, settings: ServerSettings) -> None:
        super().__init__()
        started = time.perf_counter()
        self.settings = settings
        self.api = ServerAPI(settings)
        try:
            props = self.api.get("/props")
            self.props = props
            self.vocab = ServerTokenizer(self.api)
            source = props.get("chat_template")
            if not isinstance(source, str) or not source.strip():
                raise ServerError(f"{settings.url}/props: the server reports no chat template")
            settings_json = props.get("default_generation_settings")
            n_ctx = settings_json.get("n_ctx") if isinstance(settings_json, dict) else None
            if not isinstance(n_ctx, int) or isinstance(n_ctx, bool) or not 0 < n_ctx <= CONTEXT_LIMIT:
                raise ServerError(
                    f"{settings.url}/props: no usable context size (default_generation_settings.n_ctx "
                    f"should be a whole number from 1 to {CONTEXT_LIMIT}, got {str(n_ctx)[:40]})"
                )
            model_path = str(props.get("model_path") or "")
            self.template = ChatTemplate(
                source,
                "the server's chat template",
                str(props.get("bos_token") or ""),
                str(props.get("eos_token") or ""),
                n_ctx=n_ctx,
            )
            self.own_template = self.template
        except BaseException:
            self.api.close()
            raise
        SANDBOX.start()
        warning = settings.warning()
        self.info = EngineInfo(
            path=Path(model_path or "?"),
            name=PurePath(model_path).stem if model_path else "the server's model",
            architecture="",
            n_ctx=n_ctx,
            n_ctx_train=None,
            n_threads=0,
            n_layers=None,
            gpu_offload_supported=False,
            gpu_layers=0,
            template_name=self.template.name,
            load_seconds=time.perf_counter() - started,
            warnings=(warning,) if warning else (),
            server=settings.where,
        )
        self.last_report: dict[str, Any] = {}
        """The server's own account of the last reply (tokens evaluated and cached, timings)."""
        self._fresh = True
        """No turn sent since the last reset: the next one must not reuse a cached prefix."""
        self.reset()

    def check_model(self) -> None:
        """Raise `ServerModelChanged` when the server now runs another model than at connection."""
        now = self.api.get("/props")
        if _identity(now) != _identity(self.props):
            name = PurePath(str(now.get("model_path") or "?")).name
            raise ServerModelChanged(
                f"the server at {self.settings.url} now runs another model ({name}); "
                "nothing was sent: a new session starts with it"
            )

    def _before_tokenizing(
        self, template: ChatTemplate, messages: Sequence[Message], continue_final: bool
    ) -> None:
        """The server lists no vocabulary: learn the control tokens the rendered prompt uses."""
        self.vocab.learn_controls(
            template.render(messages, not continue_final, continue_final=continue_final)
        )

    def notes(self) -> tuple[str, ...]:
        """What the inspector says about this engine: where the prompt goes, and what may differ."""
        said = [f"Sent as these token ids to llama-server at {self.settings.where}, which runs the model."]
        slots = self.props.get("total_slots")
        if isinstance(slots, int) and slots > 1:
            said.append(
                f"The server has {slots} slots (-np {slots}): its numerics, and so seeded replies, can "
                "differ from in-process ones (start it with -np 1 to match)."
            )
        return tuple(said)

    def _stream(self, request: Request) -> Generator[Piece | ReplyStats, None, None]:
        prompt, cancel = request.prompt, request.cancel
        try:
            with on_stop(cancel, self.api.hang_up):  # a silent server must not hold the stop
                yield from self._events(request)
        except ServerError:
            if not cancel.is_set():
                raise
            yield Clock().stats(prompt, 0, "cancelled", request.seed)  # we cut the connection: stopped

    def _events(self, request: Request) -> Iterator[Piece | ReplyStats]:
        """The reply as the server streams it, within our own token limit."""
        prompt, s, seed, cancel = request.prompt, request.sampling, request.seed, request.cancel
        ids, confidence = prompt.ids, request.confidence
        self.check_model()
        stop = request.stop
        body = _request(ids, s, seed, request.tokens, confidence, cache=not self._fresh)
        self._fresh = False
        clock = Clock()
        reused = 0
        final: dict[str, Any] = {}
        self.last_report = final
        events = self.api.stream("/completion", body)
        overran = False
        held: Piece | None = None
        """A control token without text: the end of turn if the server's next word is "stop, eos"."""
        try:
            for event in events:
                if event.get("stop") is True:
                    final = self.last_report = event
                    break
                tokens = event.get("tokens")
                if "prompt_progress" in event or not isinstance(tokens, list) or not tokens:
                    continue  # the prompt is still being evaluated (it says so, so it is alive)
                if clock.count >= request.tokens:
                    overran = True  # past our own limit: the server ignored n_predict
                    break
                tokens = _token_ids(tokens)
                clock.token()
                texts = [str(event.get("content", ""))] + [""] * (len(tokens) - 1)
                probs = event.get("completion_probabilities") if confidence else None
                for index, (token, text) in enumerate(zip(tokens, texts, strict=True)):
                    if held is not None:
                        clock.count += 1
                        yield held
                        held = None
                    sure = _confidence(probs, index) if isinstance(probs, list) else None
                    if len(tokens) == 1 and not text:  # the server sends no text for control tokens
                        held = Piece(token, self.vocab.control_name(token), sure)
                        continue
                    clock.count += 1
                    yield Piece(token, text, sure)
                if cancel.is_set():
                    stop = "cancelled"
                    break
        finally:
            events.close()  # hangs up: llama-server stops generating for us
        if cancel.is_set() and not final:
            stop = "cancelled"
        if held is not None and not (final and final.get("stop_type") == "eos"):
            clock.count += 1
            yield held  # a control token inside the reply; the end token is not part of it
        if final:
            if final.get("stop_type") == "eos":
                stop = "end_of_turn"
            timings = final.get("timings")
            cached = timings.get("cache_n") if isinstance(timings, dict) else None
            reused = cached if isinstance(cached, int) else 0
            tail = str(final.get("content", ""))
            if tail:
                yield Piece(-1, tail)
        elif stop != "cancelled" and not overran:
            raise ServerError(f"{self.settings.url}: the reply ended without the server saying why")
        yield clock.stats(prompt, reused, stop, seed)

    def reset(self) -> None:
        """A new session: the slot's cache is erased and the next turn reuses no cached prefix (the
        server's host-memory prompt cache could otherwise restore one after the erase)."""
        with self._lock:
            try:
                self.api.post(f"/slots/{SLOT}?action=erase", {})
            except ServerError as exc:
                if "HTTP 501" not in str(exc) and "HTTP 404" not in str(exc):
                    raise  # slot actions switched off: the cache_prompt=false below still holds
            self._fresh = True

    def close(self) -> None:
        self.api.close()


def _identity(props: dict[str, Any]) -> tuple[str, str, str, str]:
    """What tells one model from another: file, template, end token and context (a restart with
    another model changes at least one of them, even a copy of the file under the same name)."""
    settings = props.get("default_generation_settings")
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    return (
        str(props.get("model_path")),
        str(props.get("chat_template")),
        str(props.get("eos_token")),
        str(n_ctx),
    )


def _request(
    ids: list[int], s: Sampling, seed: int, n_predict: int, confidence: bool, cache: bool
) -> dict[str, Any]:
    """A /completion body that samples as the in-process chain does (tui.core.engine.sampler)."""
    body: dict[str, Any] = {
        "prompt": ids,
        "stream": True,
        "return_tokens": True,
        "return_progress": True,
        "id_slot": SLOT,
        "cache_prompt": cache,
        "n_predict": n_predict,
        "seed": seed,
        "temperature": s.temperature,
        "top_k": s.top_k,
        "top_p": s.top_p,
        "min_p": s.min_p,
        "repeat_penalty": s.repeat_penalty,
        "repeat_last_n": PENALTY_LAST_N,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "typical_p": 1.0,
        "dry_multiplier": 0.0,
        "xtc_probability": 0.0,
        "mirostat": 0,
        "dynatemp_range": 0.0,
        "samplers": ["penalties", "top_k", "top_p", "min_p", "temperature"],
    }
    if confidence:
        body |= {"n_probs": TOP, "post_sampling_probs": False}
    return body


def _token_ids(tokens: list[Any]) -> list[int]:
    """A streamed event's token ids, refused unless each is a token id."""
    for token in tokens:
        if not isinstance(token, int) or isinstance(token, bool) or not 0 <= token < TOKEN_ID_LIMIT:
            shown = str(token)[:40]
            raise ServerError(f"/completion: {shown!r} is not a token id (0 to {TOKEN_ID_LIMIT - 1})")
    return tokens


def _confidence(probs: list[Any], index: int) -> Confidence | None:
    """The model's own probabilities (before sampling), as the in-process engine reports them."""
    if index >= len(probs) or not isinstance(probs[index], dict):
        return None
    step = probs[index]
    alternatives = tuple(
        Alternative(int(alt["id"]), _text(alt), _probability(alt.get("logprob")))
        for alt in step.get("top_logprobs") or []
        if isinstance(alt, dict) and isinstance(alt.get("id"), int)
    )
    return Confidence(_probability(step.get("logprob")), alternatives)


def _probability(logprob: object) -> float:
    return math.exp(logprob) if isinstance(logprob, int | float) else 0.0


def _text(alt: dict[str, Any]) -> str:
    raw = alt.get("bytes")
    if isinstance(raw, list) and all(isinstance(b, int) and 0 <= b < 256 for b in raw):
        return bytes(raw).decode("utf-8", errors="replace")
    return str(alt.get("token", ""))


def _piece_bytes(piece: object) -> bytes:
    if isinstance(piece, str):
        return piece.encode()
    if isinstance(piece, list) and all(isinstance(b, int) and 0 <= b < 256 for b in piece):
        return bytes(piece)
    raise ServerError("/tokenize: a token's piece is neither text nor bytes")


def _list(answer: dict[str, Any], key: str) -> list[Any]:
    value = answer.get(key)
    if not isinstance(value, list):
        raise ServerError(f"expected a list `{key}` from the server")
    return value
