"""The chat screen: type, watch the reply stream, stop it, start a session that remembers nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea

if TYPE_CHECKING:
    from textual.command import Provider


from tui.core.chat.driver import ChatDriver
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine, PreparedTurn, Session
from tui.core.chat.settings import Overrides, SessionSettings
from tui.core.chat.tree import Turn
from tui.core.engine.compute_thread import on_compute_thread
from tui.core.personas.format import Persona
from tui.core.personas.store import DEFAULT_PERSONA
from tui.core.problems import ProblemError
from tui.paths import get_paths
from tui.ui.actions import bindings
from tui.ui.config import AppConfig
from tui.ui.hosts import AppHost
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
from tui.ui.screens.chat_branches import BranchActions
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Conversation
from tui.ui.widgets.inspector import Inspector
from tui.ui.widgets.status import StatusLine

# The other screens (help, sessions, personas, models, experiments) are imported when first
# opened: importing them all made the first frame wait ~60 ms for screens not yet shown.

REOPENED_TEXT = (
    "Session #{{number}} started from saved session {id} ({turns} turn(s), made with {model}). The "
    "model starts from nothing here too: the messages below are sent again as text with your next "
    "one, and that text is all it will know of them (see the hidden prompt, f2)."
)
NEW_SESSION_TEXT = (
    "{reason}Session #{number} started. The model starts from nothing: it remembers nothing of "
    "session #{previous}. Its prompt now holds only the chat template, the system message "
    "and what you type next."
)


def _experiment_commands() -> type[Provider]:
    """The palette's experiments, imported when the palette first opens (not at start-up)."""
    from tui.ui.commands import ExperimentCommands

    return ExperimentCommands


class ChatScreen(BranchActions):
    SUB_TITLE = "loading the model…"
    BINDINGS = bindings("chat")
    COMMANDS = Screen.COMMANDS | {_experiment_commands}

    def __init__(self, load_engine: Callable[..., ChatEngine], config: AppConfig) -> None:
        super().__init__()
        self._load_engine = load_engine
        self._config = config
        override = config.no_system or config.system is not None
        self.driver = ChatDriver(
            config.persona or DEFAULT_PERSONA,
            override,
            Overrides(
                system=None if config.no_system else config.system,
                replace_system=override,
                thinking=config.thinking,
                template_file=config.chat_template_file,
            ),
            config.sampling,
        )
        """What this screen shows the state of: the chat, the waiting message, the reply to stop."""
        self._shown: Session | None = None
        """The session the conversation shows (replies of another are not painted into it)."""
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
        self.call_after_refresh(self._load_first)

    def _load_first(self) -> None:
        """The model given by --model, else the starting persona's ``model``, else the default: the
        order `llm-tui ask` and `prompt` follow."""
        persona = None if self._config.model else self.persona
        if persona is not None and persona.model:
            self._load(persona.model, flags=True)
        else:
            self._load()

    @property
    def chat(self) -> Chat | None:
        return self.driver.chat

    @property
    def busy(self) -> bool:
        return self.driver.busy

    @property
    def config(self) -> AppConfig:
        return self._config

    @property
    def persona(self) -> Persona | None:
        """The current persona as it is on disk now (edits apply from the next session)."""
        return self.llm_app.personas.get(self.driver.persona_id)

    def settings(self) -> SessionSettings:
        """What a new session starts with (`ChatDriver.settings` for the current persona)."""
        return self.driver.settings(self.persona)

    def _use_persona_template(self, engine: ChatEngine) -> None:
        """Apply the session's template file (``--chat-template-file``, else the persona's), or the
        model's own template when there is none. Call it on a worker thread: it reads the file. A
        file that cannot be used is said, and not used."""
        try:
            engine.use_template_file(self.settings().template_file)
        except ProblemError as exc:
            engine.use_template_file(None)
            self.notify(f"{exc}; the model's own template is used.", severity="warning", markup=False)

    # Loading --------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="load", exclusive=True)
    def _load(self, model: str | None = None, flags: bool = False) -> None:
        from tui.core.models.catalog import ModelNotFoundError  # (after the first frame)

        try:
            engine = (
                on_compute_thread(self._load_engine, model, flags)
                if model
                else on_compute_thread(self._load_engine)
            )
        except ModelNotFoundError as exc:
            self.post_message(EngineFailed(str(exc), no_model=True))
            return
        except Exception as exc:  # noqa: BLE001 - every load failure is shown, never a traceback
            self.post_message(EngineFailed(str(exc)))
            return
        self._use_persona_template(engine)
        self.post_message(EngineReady(engine, model))

    def on_engine_ready(self, message: EngineReady) -> None:
        if self.persona is None and self.driver.persona_id != DEFAULT_PERSONA:
            missing = self.driver.persona_id
            self.notify(f"No usable persona `{missing}`: starting without one.", severity="warning")
        previous = self.chat
        chat = self.driver.chat = Chat.start(message.engine, self.settings())
        info = message.engine.info
        for warning in info.warnings:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        status = self.query_one(StatusLine)
        status.model, status.device, status.context_size = info.name, info.device, info.n_ctx
        runtime = info.runtime
        status.runs_with = (
            f"{info.n_threads} threads, flash attn {runtime.flash_attn}"
            if runtime and not info.server
            else ""
        )
        self._say_thinking(message.engine, None)
        if message.model:
            self.llm_app.current_model = message.model
        elif not info.server:  # the default (or a file): the browser marks its entry, if it has one
            from tui.core.models.catalog import entry_for_file

            found = entry_for_file(get_paths(), info.path)
            self.llm_app.current_model = found.id if found else None
        if previous is None:
            self._shown = chat.session
            settle_heap()
        else:
            chat.session.number = previous.session.number + 1
            self._close_engine(previous.engine)
            why, self._reload_reason = self._reload_reason, ""
            self.post_message(SessionStarted(chat.session, f"{why}Model “{info.name}” loaded."))
        self._update_title()
        if self.driver.pending:
            self._start_pending()

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
        self.driver.stop_everything("another model was loaded")
        self.query_one(StatusLine).model = f"loading {model}…"
        self._load(model)

    # Sending and streaming ------------------------------------------------------------------

    @on(ChatInput.Submitted)
    async def _submitted(self, event: ChatInput.Submitted) -> None:
        if self.busy or self.driver.pending:
            self.notify("A reply is still coming: press escape to stop it.", severity="warning")
            self.query_one(ChatInput).give_back(event)
            return
        editing, chat = event.editing, self.chat
        if editing is not None and chat is not None and editing in chat.session.turns:
            await self._branch(editing, lambda: chat.prepare_edit(editing, event.text), event.text)
            return
        await self._send(event.text)

    async def _send(self, text: str) -> None:
        await self.query_one(Conversation).start_turn(text)
        if self.chat is None:
            self.driver.pending.append(text)
            self.notify("The model is still loading; your message will be sent when it is ready.")
            return
        chat = self.chat
        self._start_reply(lambda: chat.prepare(text), text)

    def _start_pending(self) -> None:
        text, chat = self.driver.pending.pop(0), self.chat
        assert chat is not None
        self._start_reply(lambda: chat.prepare(text), text)

    async def _branch(
        self, turn: Turn, plan: Callable[[], PreparedTurn], user_text: str, new_seed: bool = False
    ) -> None:
        """A sibling of ``turn`` (on the current path): the path above it stays on the screen, the
        old turn is kept in the session's tree, the new one streams in its place."""
        assert self.chat is not None
        await self.query_one(Conversation).start_branch(self.chat.session.turns.index(turn), user_text)
        self.query_one(ChatInput).focus()  # the next thing typed is the next message
        self._start_reply(plan, user_text, new_seed)

    def _start_reply(self, plan: Callable[[], PreparedTurn], user: str, new_seed: bool = False) -> None:
        assert self.chat is not None
        cancel = self.driver.begin_reply()
        sampling = self.chat.session.sampling.with_seed(None) if new_seed else None
        self._generate(self.chat, plan, cancel, sampling, threading.get_ident(), user)

    @work(thread=True, exit_on_error=False, group="reply")
    def _generate(
        self,
        chat: Chat,
        plan: Callable[[], PreparedTurn],
        cancel: threading.Event,
        sampling: Sampling | None,
        ui_thread: int,
        user: str,
    ) -> None:
        save = self.driver.saver(get_paths(), chat.engine.info, self._save_failed)
        on_compute_thread(
            stream_reply,
            self,
            chat,
            plan,
            cancel,
            self._shown or chat.session,
            sampling,
            self._confidence,
            save,
            ui_thread,
            user,
        )

    async def on_reply_started(self, message: ReplyStarted) -> None:
        if message.session is self._shown:
            self.query_one(StatusLine).context_used = len(message.prepared.prompt)
        await self.query_one(Conversation).reply_started(message, message.session is self._shown)

    async def on_reply_chunk(self, message: ReplyChunk) -> None:
        await self.query_one(Conversation).reply_chunk(message, message.session is self._shown)

    async def on_reply_finished(self, message: ReplyFinished) -> None:
        """The conversation shows how the reply ended; then the status, and what comes next."""
        waiting = self.driver.reply_ended()
        await self.query_one(Conversation).reply_finished(message, message.session is self._shown)
        if message.session is not self._shown or not self.is_attached:
            return  # an old session's reply, or the app is closing (the worker saved the turn)
        if message.stats is not None:
            status = self.query_one(StatusLine)
            status.speed = message.stats.tokens_per_second or status.speed
            status.context_used = message.stats.prompt_tokens + message.stats.completion_tokens
        if message.reload:
            error = message.error or ""
            self._reload_reason = f"{error[:1].upper()}{error[1:]}. "
            box = self.query_one(ChatInput)
            if message.user and not box.text.strip():
                box.insert(message.user)  # nothing was sent: the message waits to go to the new model
            self._load()  # the next EngineReady starts a new session and says which model
            return
        self.inspect()
        if waiting is not None:
            chat = self.chat
            assert chat is not None
            self._start_reply(lambda: chat.prepare(waiting), waiting)

    def _save_transcript(self) -> None:
        """Keep the session for the user (never for the model), after every change to it."""
        if self.chat is None:
            return
        self.driver.saver(get_paths(), self.chat.engine.info, self._save_failed)(self.chat.session)

    def _save_failed(self, problem: str) -> None:
        """Said from any thread (``notify`` is thread-safe)."""
        self.notify(problem, severity="warning", markup=False)

    def stop_everything(self) -> None:
        """Before quitting: stop the reply (its worker saves the turn) and forget queued messages."""
        self.driver.stop_everything()

    # Actions ----------------------------------------------------------------------------------

    def action_stop(self) -> None:
        if not self.driver.stop():
            self.query_one(ChatInput).stop_editing()

    def _idle_chat(self) -> Chat | None:
        """The chat, when nothing is streaming or waiting (branches change only between replies)."""
        chat = self.driver.idle_chat()
        if chat is None:
            self.notify("Wait for the reply to finish, or stop it with escape.", severity="warning")
        return chat

    def action_new_session(self, reason: str = "") -> None:
        if self.chat is None:
            return
        self.driver.stop_everything("a new session started")
        self._reset(self.chat, self.settings(), reason)

    @work(thread=True, exit_on_error=False, group="session")
    def _reset(self, chat: Chat, settings: SessionSettings, reason: str) -> None:
        session = chat.restart(settings)  # waits for a reply to stop
        self._use_persona_template(chat.engine)
        self.post_message(SessionStarted(session, reason))

    async def on_session_started(self, message: SessionStarted) -> None:
        if self.chat is None or message.session is not self.chat.session:
            return  # a late report of a session already replaced (many ctrl+n in a row)
        self._shown = message.session
        number = message.session.number
        previous = number - 1
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        reason = f"{message.reason} " if message.reason else ""
        text = NEW_SESSION_TEXT.format(reason=reason, number=number, previous=previous)
        if message.reopened:
            text = message.reason.format(number=number)
        await conversation.notice(text, "new-session")
        if message.reopened and self.chat is not None:
            session = self.chat.session
            await conversation.show_path(session.turns, session.tree)
            await conversation.mark_dropped(session.first_kept)
            for item in session.unanswered:
                await conversation.unanswered(item)
        status = self.query_one(StatusLine)
        status.context_used = 0
        if self.chat is not None:
            self._say_thinking(self.chat.engine, None)  # a persona may set enable_thinking
        self._update_title()
        self.inspect()

    # Personas -----------------------------------------------------------------------------------

    def action_personas(self) -> None:
        from tui.ui.screens import persona_flow

        persona_flow.open_picker(self, self.driver.persona_id)

    def use_persona(self, persona_id: str) -> None:
        """Switch persona: always a new session, so nothing of the old one comes along; with the
        persona's ``model`` when it names another one (unless --model chose the model, as in the CLI)."""
        self.driver.use_persona(persona_id)
        persona = self.persona
        name = persona.name if persona else persona_id
        if self.chat is None:
            self.notify(f"Persona {name} will be used once the model has loaded.", markup=False)
            return
        wanted = persona.model if persona is not None and not self._config.model else None
        if wanted and wanted != self.llm_app.current_model:
            self._reload_reason = f"Persona “{name}” chosen, with its model. "
            self.switch_model(wanted)
            return
        self.action_new_session(reason=f"Persona “{name}” chosen.")

    def on_personas_changed(self, _message: PersonasChanged) -> None:
        if self.driver.persona_id in (p.id for p in self.llm_app.personas.personas.values()) and self.chat:
            if not self.driver.override and self.settings().system != self.chat.session.system:
                self.notify(
                    "The current persona changed on disk: press ctrl+n to start a session with it.",
                    timeout=6,
                )
        self._update_title()

    # The tools beside the conversation: each widget or screen owns its behaviour -----------------

    @property
    def llm_app(self) -> AppHost:
        return self.app  # type: ignore[return-value]  # the app that pushed this screen is one

    @property
    def persona_id(self) -> str:
        return self.driver.persona_id

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
    def _say_thinking(self, engine: ChatEngine, now: bool | None) -> None:
        """Whether the template reads the variable is asked of the template process: not on the UI
        thread. The status line keeps saying it (``now`` None: at load, nothing is notified)."""
        reads = "enable_thinking" in engine.template.variables_read()
        if now is not None:
            also = "" if reads else " (this model's template does not read it: nothing changes)"
            self.notify(f"Thinking {'on' if now else 'off'} from the next message{also}.", markup=False)
        chat = self.chat
        value = chat.session.variables.get("enable_thinking", True) if chat is not None else True
        shown = f"thinking {'on' if value is not False else 'off'}" if reads else ""
        self.app.call_from_thread(setattr, self.query_one(StatusLine), "thinking", shown)

    def action_confidence(self) -> None:
        self._confidence = not self._confidence
        state = "on: replies are shaded by how likely each token was" if self._confidence else "off"
        self.notify(f"Token confidence {state}.")

    def action_sessions(self) -> None:
        from tui.ui.screens.sessions import SessionsView

        self.app.push_screen(SessionsView(), self._reopen)

    def _reopen(self, path: Path | None) -> None:
        """Go on with a saved session, in a new one: its turns are sent again as text."""
        if path is None or self.chat is None:
            return
        self.driver.stop_everything("a saved session was reopened")
        self._reopen_session(self.chat, path)

    @work(thread=True, exit_on_error=False, group="session")
    def _reopen_session(self, chat: Chat, path: Path) -> None:
        from tui.core.chat import transcripts
        from tui.core.chat.reopen import reopen

        try:
            saved = transcripts.load_checked(path)
            session = on_compute_thread(reopen, chat, saved, str(path))  # waits for a reply to stop
        except Exception as exc:  # noqa: BLE001 - a damaged file or a template error: said, not raised
            self.notify(f"Could not reopen {path.name}: {exc}", severity="error", markup=False)
            return
        reason = REOPENED_TEXT.format(id=saved.id, model=saved.model.name, turns=len(saved.turns))
        self.post_message(SessionStarted(session, reason, reopened=True))

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
        who = "custom system message" if self.driver.override else (persona.name if persona else "no persona")
        if self.chat is not None:
            minutes = int((datetime.now(timezone.utc) - self.chat.session.started_at).total_seconds() // 60)
            age = "just started" if minutes < 1 else f"{minutes} min"
            info = self.chat.engine.info
            model = f"{info.name} on llama-server {info.server}" if info.server else info.name
            self.sub_title = f"{model} · {who} · session #{self.chat.session.number}, {age}"
