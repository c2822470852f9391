"""The chat screen: type, watch the reply stream, stop it, start a session that remembers nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

if TYPE_CHECKING:
    from tui.ui.app import AppConfig, LlmTuiApp

from tui.core.catalog import ModelNotFoundError
from tui.core.engine import ContextFullError, EngineError, Piece
from tui.core.persona_store import DEFAULT_PERSONA
from tui.core.personas import Persona
from tui.core.sampling import Sampling
from tui.core.session import Chat, ChatEngine, Session
from tui.core.template import TemplateRenderError
from tui.ui.messages import (
    EngineFailed,
    EngineReady,
    PersonasChanged,
    ReplyChunk,
    ReplyFinished,
    ReplyStarted,
    SessionStarted,
    SwitchModel,
)
from tui.ui.screens import persona_flow
from tui.ui.screens.models import ModelBrowser
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Conversation, Notice, Reply, ReplyFooter, UserMessage
from tui.ui.widgets.status import StatusLine

FLUSH_SECONDS = 1 / 30
"""How often streamed text is handed to the UI: fast GPUs produce far more tokens than frames."""

NEW_SESSION_TEXT = (
    "{reason}Session #{number} started. The model starts from nothing: it remembers nothing of "
    "session #{previous}. Its prompt now holds only the chat template, the system message "
    "and what you type next."
)


class ChatScreen(Screen[None]):
    SUB_TITLE = "loading the model…"
    BINDINGS = [
        Binding("escape", "stop", "Stop reply", show=True),
        Binding("ctrl+n", "new_session", "New session", show=True),
        Binding("f3", "personas", "Personas", show=True),
        Binding("f4", "models", "Models", show=True),
    ]

    def __init__(self, load_engine: Callable[..., ChatEngine], config: AppConfig) -> None:
        super().__init__()
        self._load_engine = load_engine
        self._config = config
        self._persona_id = config.persona or DEFAULT_PERSONA
        self._override = config.no_system or config.system is not None
        """--system/--no-system win until the user picks a persona here."""
        self.chat: Chat | None = None
        self._pending: list[str] = []
        self._cancel: threading.Event | None = None
        self._reply: Reply | None = None
        self._session = 1

    def compose(self) -> ComposeResult:
        yield Header()
        yield Conversation(id="conversation")
        yield ChatInput(id="input")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ChatInput).focus()
        self._load()

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    @property
    def llm_app(self) -> LlmTuiApp:
        return self.app  # type: ignore[return-value]

    @property
    def persona(self) -> Persona | None:
        """The current persona as it is on disk now (edits apply from the next session)."""
        return self.llm_app.personas.get(self._persona_id)

    def settings(self) -> tuple[str | None, Sampling]:
        """The system message and sampling a new session starts with."""
        persona, config = self.persona, self._config
        sampling = persona.apply(config.sampling) if persona else config.sampling
        if self._override:
            return (None if config.no_system else config.system), sampling
        return (persona.system if persona else None), sampling

    def unusable(self, persona: Persona) -> str | None:
        """Why ``persona`` cannot be used with the loaded model (its system message is too long)."""
        if self.chat is None:
            return None
        try:
            Session(persona.system, persona.apply(self._config.sampling)).prepare(self.chat.engine, "")
        except ContextFullError as exc:
            return str(exc)
        except TemplateRenderError:
            return None
        return None

    # Loading --------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _load(self, model: str | None = None) -> None:
        try:
            engine = self._load_engine(model) if model else self._load_engine()
        except ModelNotFoundError as exc:
            self.post_message(EngineFailed(str(exc), no_model=True))
            return
        except Exception as exc:  # noqa: BLE001 - every load failure is shown, never a traceback
            self.post_message(EngineFailed(str(exc)))
            return
        self.post_message(EngineReady(engine, model))

    def on_engine_ready(self, message: EngineReady) -> None:
        if self.persona is None and self._persona_id != DEFAULT_PERSONA:
            self.notify(f"No usable persona `{self._persona_id}`: starting without one.", severity="warning")
        previous, self.chat = self.chat, Chat(message.engine, *self.settings())
        info = message.engine.info
        status = self.query_one(StatusLine)
        status.model, status.device, status.context_size = info.name, info.device, info.n_ctx
        browser = self.app.get_screen("models")
        if isinstance(browser, ModelBrowser) and message.model:
            browser.current_model = message.model
        if previous is not None:
            self.chat.session.number = previous.session.number + 1
            self._close_engine(previous.engine)
            self.post_message(SessionStarted(self.chat.session.number, f"Model “{info.name}” loaded."))
        self._update_title()
        if self._pending:
            self._start_reply(self._pending.pop(0))

    @work(thread=True, exit_on_error=False, group="close")
    def _close_engine(self, engine: ChatEngine) -> None:
        engine.close()  # waits for a reply still streaming on it to stop

    async def on_engine_failed(self, message: EngineFailed) -> None:
        if self.chat is not None:  # a switch failed: the model loaded before stays
            await self._notice(f"The model could not be loaded: {message.error}", "error")
            return
        self.query_one(StatusLine).model = "no model loaded"
        if message.no_model:
            await self._notice(
                f"{message.error}. Pick a model to download in the model browser (f4).", "error"
            )
            self.call_after_refresh(self.action_models)
        else:
            await self._notice(f"The model could not be loaded: {message.error}", "error")

    def action_models(self) -> None:
        self.app.push_screen("models")

    def on_switch_model(self, message: SwitchModel) -> None:
        if self._cancel is not None:
            self._cancel.set()
        self._pending.clear()
        self.query_one(StatusLine).model = f"loading {message.model}…"
        self._load(message.model)

    # Sending and streaming ------------------------------------------------------------------

    @on(ChatInput.Submitted)
    async def _submitted(self, event: ChatInput.Submitted) -> None:
        if self.busy or self._pending:
            self.notify("A reply is still coming: press escape to stop it.", severity="warning")
            return
        await self.query_one(Conversation).mount(UserMessage(event.text))
        if self.chat is None:
            self._pending.append(event.text)
            self.notify("The model is still loading; your message will be sent when it is ready.")
            return
        self._start_reply(event.text)

    def _start_reply(self, text: str) -> None:
        assert self.chat is not None
        self._cancel = threading.Event()
        self._generate(self.chat, text, self._cancel, self._session)

    @work(thread=True, exit_on_error=False, group="reply")
    def _generate(self, chat: Chat, text: str, cancel: threading.Event, session: int) -> None:
        try:
            prepared = chat.prepare(text)
        except (EngineError, TemplateRenderError) as exc:
            self.post_message(ReplyFinished(session, None, str(exc)))
            return
        self.post_message(ReplyStarted(session, prepared))
        buffer: list[str] = []
        flushed = time.monotonic()
        stats = None
        try:
            for event in chat.reply(prepared, text, cancel):
                if not isinstance(event, Piece):
                    stats = event
                    continue
                buffer.append(event.text)
                if time.monotonic() - flushed >= FLUSH_SECONDS:
                    self.post_message(ReplyChunk(session, "".join(buffer)))
                    buffer.clear()
                    flushed = time.monotonic()
        except EngineError as exc:
            self.post_message(ReplyChunk(session, "".join(buffer)))
            self.post_message(ReplyFinished(session, None, str(exc)))
            return
        if buffer:
            self.post_message(ReplyChunk(session, "".join(buffer)))
        self.post_message(ReplyFinished(session, stats))

    async def on_reply_started(self, message: ReplyStarted) -> None:
        if message.session != self._session:
            return
        dropped = message.prepared.dropped
        if dropped:
            await self._notice(
                f"{len(dropped)} earlier turn(s) no longer fit the context and were dropped: "
                "the model does not see them any more.",
                "dropped",
            )
        self.query_one(StatusLine).context_used = len(message.prepared.prompt)
        self._reply = Reply()
        await self.query_one(Conversation).mount(self._reply)

    async def on_reply_chunk(self, message: ReplyChunk) -> None:
        if message.session == self._session and self._reply is not None:
            await self._reply.add(message.text)

    async def on_reply_finished(self, message: ReplyFinished) -> None:
        current = message.session == self._session
        self._cancel = None
        reply, self._reply = self._reply, None
        if not current:
            return
        if reply is not None:
            await reply.finish()
        if message.error:
            await self._notice(f"No reply: {message.error}", "error")
        if message.stats is not None:
            await self.query_one(Conversation).mount(ReplyFooter(message.stats))
            status = self.query_one(StatusLine)
            status.speed = message.stats.tokens_per_second or status.speed
            status.context_used = message.stats.prompt_tokens + message.stats.completion_tokens
        if self._pending:
            self._start_reply(self._pending.pop(0))

    # Actions ----------------------------------------------------------------------------------

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def action_new_session(self, reason: str = "") -> None:
        if self.chat is None:
            return
        if self._cancel is not None:
            self._cancel.set()
        self._pending.clear()
        system, sampling = self.settings()
        self._reset(self.chat, system, sampling, reason)

    @work(thread=True, exit_on_error=False, group="session")
    def _reset(self, chat: Chat, system: str | None, sampling: Sampling, reason: str) -> None:
        session = chat.new_session(system, sampling)  # waits for a streaming reply to stop
        self.post_message(SessionStarted(session.number, reason))

    async def on_session_started(self, message: SessionStarted) -> None:
        previous, self._session = self._session, message.number
        self._reply = None
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        reason = f"{message.reason} " if message.reason else ""
        text = NEW_SESSION_TEXT.format(reason=reason, number=message.number, previous=previous)
        await self._notice(text, "new-session")
        status = self.query_one(StatusLine)
        status.context_used = 0
        self._update_title()

    # Personas -----------------------------------------------------------------------------------

    def action_personas(self) -> None:
        persona_flow.open_picker(self, self._persona_id)

    def use_persona(self, persona_id: str) -> None:
        """Switch persona: always a new session, so nothing of the old one comes along."""
        self._persona_id, self._override = persona_id, False
        persona = self.persona
        name = persona.name if persona else persona_id
        if self.chat is None:
            self.notify(f"Persona {name} will be used once the model has loaded.")
            return
        self.action_new_session(reason=f"Persona “{name}” chosen.")

    def on_personas_changed(self, _message: PersonasChanged) -> None:
        if self._persona_id in (p.id for p in self.llm_app.personas.personas.values()) and self.chat:
            system, _ = self.settings()
            if not self._override and system != self.chat.session.system:
                self.notify(
                    "The current persona changed on disk: press ctrl+n to start a session with it.",
                    timeout=6,
                )
        self._update_title()

    # Helpers ----------------------------------------------------------------------------------

    async def _notice(self, text: str, kind: str) -> None:
        await self.query_one(Conversation).mount(Notice(text, kind))

    def _update_title(self) -> None:
        persona = self.persona
        who = "custom system message" if self._override else (persona.name if persona else "no persona")
        if self.chat is not None:
            self.sub_title = f"{self.chat.engine.info.name} · {who} · session #{self._session}"
