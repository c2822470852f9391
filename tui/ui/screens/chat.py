"""The chat screen: type, watch the reply stream, stop it, start a session that remembers nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea

if TYPE_CHECKING:
    from tui.ui.app import AppConfig, LlmTuiApp

from tui.core.chat import transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine, Session
from tui.core.engine.compute_thread import on_compute_thread
from tui.core.engine.values import EngineInfo
from tui.core.models.catalog import ModelNotFoundError
from tui.core.personas.format import Persona
from tui.core.personas.store import DEFAULT_PERSONA
from tui.paths import get_paths
from tui.ui.actions import bindings
from tui.ui.messages import (
    EngineFailed,
    EngineReady,
    PersonasChanged,
    ReplyChunk,
    ReplyFinished,
    ReplyStarted,
    SessionStarted,
)
from tui.ui.reply_stream import settle_heap, stream_reply
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.confidence_view import ConfidenceView
from tui.ui.widgets.conversation import Conversation, TurnView
from tui.ui.widgets.inspector import Inspector
from tui.ui.widgets.status import StatusLine

# The other screens (help, sessions, personas, models, experiments) are imported when first
# opened: importing them all made the first frame wait ~60 ms for screens not yet shown.

NEW_SESSION_TEXT = (
    "{reason}Session #{number} started. The model starts from nothing: it remembers nothing of "
    "session #{previous}. Its prompt now holds only the chat template, the system message "
    "and what you type next."
)


def _experiment_commands() -> type[Provider]:
    """The palette's experiments, imported when the palette first opens (not at start-up)."""
    from tui.ui.commands import ExperimentCommands

    return ExperimentCommands


class ChatScreen(Screen[None]):
    SUB_TITLE = "loading the model…"
    BINDINGS = bindings("chat")
    COMMANDS = Screen.COMMANDS | {_experiment_commands}

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
        self._turn: TurnView | None = None
        self._session = 1
        self._confidence = False
        self._reload_reason = ""
        """Why the engine is being loaded again (said with the new session)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield Conversation(id="conversation")
                yield ChatInput(id="input")
            yield Inspector()
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ChatInput).focus()
        self.set_interval(30, self._update_title)
        # After the first frame: the load's imports (llama_cpp, numpy: ~100 ms) hold the GIL and
        # would hold the first frame back with them.
        self.call_after_refresh(self._load)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    @property
    def config(self) -> AppConfig:
        return self._config

    @property
    def persona(self) -> Persona | None:
        """The current persona as it is on disk now (edits apply from the next session)."""
        return self.llm_app.personas.get(self._persona_id)

    def settings(self) -> tuple[str | None, Sampling, bool, dict[str, object]]:
        """The system message, sampling, special-token opt-in and template variables a new session
        starts with (the persona's, then --thinking)."""
        persona, config = self.persona, self._config
        sampling = persona.apply(config.sampling) if persona else config.sampling
        parse_special = bool(persona and persona.parse_special)
        variables: dict[str, object] = dict(persona.template) if persona else {}
        if config.thinking is not None:
            variables["enable_thinking"] = config.thinking
        if self._override:
            return (None if config.no_system else config.system), sampling, parse_special, variables
        return (persona.system if persona else None), sampling, parse_special, variables

    # Loading --------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _load(self, model: str | None = None) -> None:
        try:
            engine = (
                on_compute_thread(self._load_engine, model) if model else on_compute_thread(self._load_engine)
            )
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
        for warning in info.warnings:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        status = self.query_one(StatusLine)
        status.model, status.device, status.context_size = info.name, info.device, info.n_ctx
        if message.model:
            self.llm_app.current_model = message.model
        if previous is None:
            settle_heap()
        else:
            self.chat.session.number = previous.session.number + 1
            self._close_engine(previous.engine)
            why, self._reload_reason = self._reload_reason, ""
            self.post_message(SessionStarted(self.chat.session.number, f"{why}Model “{info.name}” loaded."))
        self._update_title()
        if self._pending:
            self._start_reply(self._pending.pop(0))

    @work(thread=True, exit_on_error=False, group="close")
    def _close_engine(self, engine: ChatEngine) -> None:
        on_compute_thread(engine.close)  # after a reply still streaming on it has stopped

    async def on_engine_failed(self, message: EngineFailed) -> None:
        if self.chat is not None:  # a switch failed: the model loaded before stays
            info = self.chat.engine.info
            self.query_one(StatusLine).model = info.name
            await self._notice(
                f"The model could not be loaded: {message.error}. Still using {info.name}.", "error"
            )
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
        self.app.push_screen(self.llm_app.model_browser(), self.switch_model)

    def switch_model(self, model: str | None) -> None:
        """Load ``model`` (what the browser returned; None: it was closed) in a new session."""
        if model is None:
            return
        if self._cancel is not None:
            self._cancel.set()
        self._pending.clear()
        self.query_one(StatusLine).model = f"loading {model}…"
        self._load(model)

    # Sending and streaming ------------------------------------------------------------------

    @on(ChatInput.Submitted)
    async def _submitted(self, event: ChatInput.Submitted) -> None:
        if self.busy or self._pending:
            self.notify("A reply is still coming: press escape to stop it.", severity="warning")
            return
        await self._send(event.text)

    async def _send(self, text: str, new_seed: bool = False) -> None:
        self._turn = await self.query_one(Conversation).start_turn(text)
        if self.chat is None:
            self._pending.append(text)
            self.notify("The model is still loading; your message will be sent when it is ready.")
            return
        self._start_reply(text, new_seed)

    def _start_reply(self, text: str, new_seed: bool = False) -> None:
        assert self.chat is not None
        self._cancel = threading.Event()
        sampling = self.chat.session.sampling.with_seed(None) if new_seed else None
        self._generate(self.chat, text, self._cancel, self._session, sampling, threading.get_ident())

    @work(thread=True, exit_on_error=False, group="reply")
    def _generate(
        self,
        chat: Chat,
        text: str,
        cancel: threading.Event,
        session: int,
        sampling: Sampling | None,
        ui_thread: int,
    ) -> None:
        persona = None if self._override else self._persona_id
        info = chat.engine.info

        def save(recorded: Session) -> None:
            self._save_session(recorded, info, persona)

        on_compute_thread(
            stream_reply, self, chat, text, cancel, session, sampling, self._confidence, save, ui_thread
        )

    async def on_reply_started(self, message: ReplyStarted) -> None:
        if message.session == self._session and self._turn is not None and self.chat is not None:
            if message.prepared.dropped:
                await self.query_one(Conversation).mark_dropped(self.chat.session.first_kept)
            self.query_one(StatusLine).context_used = len(message.prepared.prompt)
            await self._turn.start_reply()
        self._painted(message.painted)

    async def on_reply_chunk(self, message: ReplyChunk) -> None:
        turn = self._turn
        if message.session == self._session and turn is not None and turn.reply is not None:
            if message.thinking:
                await turn.reply.think(message.thinking, message.thinking_tokens)
            await turn.reply.add(message.text)
        self._painted(message.painted)

    def _painted(self, painted: threading.Event | None) -> None:
        """Let the reply worker decode on once this update is on the screen."""
        if painted is not None:
            self.call_after_refresh(painted.set)

    async def on_reply_finished(self, message: ReplyFinished) -> None:
        self._cancel = None
        turn, self._turn = self._turn, None
        if message.session != self._session or not self.is_attached:
            return  # an old session's reply, or the app is closing (the worker saved the turn)
        if turn is not None:
            await turn.finish(message.stats, message.error)
            last = self.chat.session.turns[-1] if self.chat and self.chat.session.turns else None
            if message.stats is not None and last is not None and last.pieces:
                await turn.mount(ConfidenceView(last.pieces))
        if message.stats is not None:
            status = self.query_one(StatusLine)
            status.speed = message.stats.tokens_per_second or status.speed
            status.context_used = message.stats.prompt_tokens + message.stats.completion_tokens
        if message.reload:
            error = message.error or ""
            self._reload_reason = f"{error[:1].upper()}{error[1:]}. "
            self._load()  # the next EngineReady starts a new session and says which model
            return
        self.inspect()
        if self._pending:
            self._start_reply(self._pending.pop(0))

    def _save_transcript(self) -> None:
        """Keep the session for the user (never for the model), after every change to it."""
        if self.chat is None:
            return
        persona = None if self._override else self._persona_id
        self._save_session(self.chat.session, self.chat.engine.info, persona)

    def _save_session(self, session: Session, info: EngineInfo, persona: str | None) -> None:
        """Write one session's transcript; safe from a worker thread (``notify`` is thread-safe)."""
        try:
            transcripts.save(get_paths(), session, info, persona)
        except OSError as exc:
            self.notify(
                f"Could not save the session transcript: {exc.strerror or exc}",
                severity="warning",
                markup=False,
            )

    def stop_everything(self) -> None:
        """Before quitting: stop the reply (its worker saves the turn) and forget queued messages."""
        self._pending.clear()
        if self._cancel is not None:
            self._cancel.set()

    # Actions ----------------------------------------------------------------------------------

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    async def _retract(self) -> str | None:
        """Take back the last turn, from the session and from the screen; its message, or None."""
        if self.chat is None or self.busy or self._pending:
            self.notify("Wait for the reply to finish, or stop it with escape.", severity="warning")
            return None
        turn = self.chat.retract_last()
        if turn is None:
            self.notify("Nothing to take back yet.", severity="warning")
            return None
        await self.query_one(Conversation).remove_last_turn()
        self._save_transcript()
        return turn.user

    async def action_regenerate(self) -> None:
        """The last message again, with a new seed: a different sample from the same prompt."""
        text = await self._retract()
        if text is not None:
            await self._send(text, new_seed=True)

    async def action_edit_last(self) -> None:
        text = await self._retract()
        if text is not None:
            box = self.query_one(ChatInput)
            box.load_text(text)
            box.focus()

    def action_new_session(self, reason: str = "") -> None:
        if self.chat is None:
            return
        if self._cancel is not None:
            self._cancel.set()
        self._pending.clear()
        system, sampling, parse_special, variables = self.settings()
        self._reset(self.chat, system, sampling, parse_special, variables, reason)

    @work(thread=True, exit_on_error=False, group="session")
    def _reset(
        self,
        chat: Chat,
        system: str | None,
        sampling: Sampling,
        parse_special: bool,
        variables: dict[str, object],
        reason: str,
    ) -> None:
        session = chat.new_session(system, sampling, parse_special, variables)  # waits for a reply to stop
        self.post_message(SessionStarted(session.number, reason))

    async def on_session_started(self, message: SessionStarted) -> None:
        if message.number < self._session:
            return  # a late report of a session already replaced (many ctrl+n in a row)
        self._session = message.number
        previous = message.number - 1
        self._turn = None
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        reason = f"{message.reason} " if message.reason else ""
        text = NEW_SESSION_TEXT.format(reason=reason, number=message.number, previous=previous)
        await conversation.notice(text, "new-session")
        status = self.query_one(StatusLine)
        status.context_used = 0
        self._update_title()
        self.inspect()

    # Personas -----------------------------------------------------------------------------------

    def action_personas(self) -> None:
        from tui.ui.screens import persona_flow

        persona_flow.open_picker(self, self._persona_id)

    def use_persona(self, persona_id: str) -> None:
        """Switch persona: always a new session, so nothing of the old one comes along."""
        self._persona_id, self._override = persona_id, False
        persona = self.persona
        name = persona.name if persona else persona_id
        if self.chat is None:
            self.notify(f"Persona {name} will be used once the model has loaded.", markup=False)
            return
        self.action_new_session(reason=f"Persona “{name}” chosen.")

    def on_personas_changed(self, _message: PersonasChanged) -> None:
        if self._persona_id in (p.id for p in self.llm_app.personas.personas.values()) and self.chat:
            system, *_ = self.settings()
            if not self._override and system != self.chat.session.system:
                self.notify(
                    "The current persona changed on disk: press ctrl+n to start a session with it.",
                    timeout=6,
                )
        self._update_title()

    # The tools beside the conversation: each widget or screen owns its behaviour -----------------

    @property
    def llm_app(self) -> LlmTuiApp:
        return self.app  # type: ignore[return-value]

    @property
    def persona_id(self) -> str:
        return self._persona_id

    def action_inspector(self) -> None:
        inspector = self.query_one(Inspector)
        inspector.display = not inspector.display
        self.inspect()

    def inspect(self) -> None:
        """Bring the inspector up to date (only while it is shown: it tokenizes the whole prompt)."""
        inspector = self.query_one(Inspector)
        if inspector.display and self.chat is not None:
            inspector.follow(self.chat, self.query_one(ChatInput).text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id == "input":  # the message box, not the persona editor's text
            self.query_one(Inspector).draft_changed(self.chat, event.text_area.text)

    def action_show_thinking(self) -> None:
        """Show or hide every thinking block (display only: what the model is sent does not change)."""
        hidden = not self.has_class("-hide-thinking")
        self.set_class(hidden, "-hide-thinking")
        self.notify("Thinking hidden." if hidden else "Thinking shown.")

    def action_enable_thinking(self) -> None:
        """Switch the template's ``enable_thinking`` for the next turn; the inspector shows the change."""
        if self.chat is None:
            return
        variables = self.chat.session.variables
        now = not variables.get("enable_thinking", True)
        variables["enable_thinking"] = now
        self._say_thinking(self.chat.engine, now)
        self.inspect()

    @work(thread=True, exit_on_error=False, group="inspect")
    def _say_thinking(self, engine: ChatEngine, now: bool) -> None:
        """Whether the template reads the variable is asked of the template process: not on the UI thread."""
        template = getattr(engine, "template", None)
        reads = template is None or "enable_thinking" in template.variables_read()
        also = "" if reads else " (this model's template does not read it: nothing changes)"
        self.notify(f"Thinking {'on' if now else 'off'} from the next message{also}.", markup=False)

    def action_confidence(self) -> None:
        self._confidence = not self._confidence
        state = "on: replies are shaded by how likely each token was" if self._confidence else "off"
        self.notify(f"Token confidence {state}.")

    def action_sessions(self) -> None:
        from tui.ui.screens.sessions import SessionsView

        self.app.push_screen(SessionsView())

    def action_help(self) -> None:
        from tui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    def action_copy_reply(self) -> None:
        self.query_one(Conversation).copy_last_reply(self._last_reply())

    def action_copy_code(self) -> None:
        self.query_one(Conversation).copy_last_reply(self._last_reply(), code_only=True)

    def _last_reply(self) -> str | None:
        turns = self.chat.session.turns if self.chat is not None else []
        return turns[-1].reply if turns else None

    # Helpers ----------------------------------------------------------------------------------

    async def _notice(self, text: str, kind: str) -> None:
        await self.query_one(Conversation).notice(text, kind)

    def _update_title(self) -> None:
        persona = self.persona
        who = "custom system message" if self._override else (persona.name if persona else "no persona")
        if self.chat is not None:
            minutes = int((datetime.now(timezone.utc) - self.chat.session.started_at).total_seconds() // 60)
            age = "just started" if minutes < 1 else f"{minutes} min"
            info = self.chat.engine.info
            model = f"{info.name} on llama-server {info.server}" if info.server else info.name
            self.sub_title = f"{model} · {who} · session #{self._session}, {age}"
