"""The Textual app: builds the screens from one config; the CLI and the tests share this factory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.filter import LineFilter
from textual.screen import Screen

from tui.core.chat.session import ChatEngine
from tui.core.engine.values import EngineInfo, LoadOptions
from tui.core.personas.store import PersonaSet, PersonaStore
from tui.core.problems import Problem
from tui.core.settings.config import load_config
from tui.core.settings.state import load_state, save_state
from tui.paths import get_paths
from tui.ui.actions import binding_ids, bindings
from tui.ui.config import AppConfig as AppConfig  # re-exported: the CLI and the tests build apps
from tui.ui.messages import PersonasChanged
from tui.ui.screen_text import TerminalSafe
from tui.ui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from tui.ui.screens.models import ModelBrowser

QUIT_WAIT_SECONDS = 5.0
"""Longest wait on quit for a reply to stop; it stops between two tokens, so far sooner."""
WATCH_SECONDS = 1.0
"""How often the persona folders are checked for files edited outside the app."""
TERMINAL_CHECK_SECONDS = 0.5
"""How often the terminal is checked for having gone without a SIGHUP (a pty closed under us)."""
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the app like ctrl+q (the partial turn saved), exiting 128 + the signal."""


class DetachedExecutor(ThreadPoolExecutor):
    """A thread pool whose shutdown never waits for a thread still running."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


class LlmTuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "llm-tui"
    BINDINGS = bindings("app")

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.store = PersonaStore(get_paths())
        self.personas = PersonaSet()
        self._snapshot = self.store.snapshot()
        self.current_model: str | None = None
        """The catalog id of the model in use, when it was chosen from the catalog (app state)."""
        self.crash_report: Path | None = None
        self.crash_error: Exception | None = None
        self._terminal_safe = TerminalSafe()
        self._chat: ChatScreen | None = None
        self.ended_by: int | None = None
        """The exit code when a signal or a vanished terminal ended the app (128 + the signal)."""

    def on_mount(self) -> None:
        paths = get_paths()
        state = load_state(paths)
        if state.theme in self.available_themes:
            self.theme = state.theme
        self.watch(self, "theme", self._remember_theme, init=False)
        config = load_config(paths, binding_ids())
        keymap, key_problems = checked_keymap(config.keymap, str(paths.config_file))
        self.keymap = keymap
        """The [keymap] applied from config.toml (binding id -> keys), as the help shows it."""
        if keymap:
            self.set_keymap(keymap)
        config.problems += key_problems
        for problem in [*config.problems, *([state.problem] if state.problem else [])]:
            self.notify(str(problem), severity="warning", timeout=15, markup=False)
        self.personas = self.store.load()
        self.set_interval(WATCH_SECONDS, self.check_persona_files)
        if not self.is_headless:
            self._detach_workers()
            self._watch_the_outside()
        self._chat = ChatScreen(self.engine_factory, self.config)
        self.push_screen(self._chat)

    def _detach_workers(self) -> None:
        """Thread workers run on the loop's default executor, which `asyncio.run` joins at the end:
        a worker blocked where no stop reaches it (a model loading, a server that never answers)
        kept the app from returning after ctrl+q. Here the end does not wait for them; the CLI then
        ends the process (tui.cli.start.leave)."""
        asyncio.get_running_loop().set_default_executor(DetachedExecutor())

    def _watch_the_outside(self) -> None:
        """SIGTERM, SIGHUP and a terminal that vanished end the app as ctrl+q does: without this a
        closing terminal lost the whole turn, and a dead one left the app running unseen."""
        loop = asyncio.get_running_loop()
        for ending in ENDING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not on this OS
                loop.add_signal_handler(ending, self.end_from_outside, 128 + ending)
        try:
            watched = sys.__stdin__ is not None and os.isatty(sys.__stdin__.fileno())
        except (OSError, ValueError):
            watched = False
        if watched:  # a terminal that was there and went; not one that never was
            self.set_interval(TERMINAL_CHECK_SECONDS, self._check_terminal)

    def _check_terminal(self) -> None:
        import termios

        try:
            termios.tcgetattr(sys.__stdin__.fileno() if sys.__stdin__ else 0)
        except (OSError, termios.error, ValueError):
            self.end_from_outside(128 + signal.SIGHUP)  # hung up: as if it had said so

    def end_from_outside(self, code: int) -> None:
        """Quit as ctrl+q does, exiting ``code`` (so a script sees it was ended, not done)."""
        if self.ended_by is None:
            self.ended_by = code
            self.run_worker(self.action_quit(), group="quit", exclusive=True)

    async def action_quit(self) -> None:
        """Stop a streaming reply and wait for it (its turn is saved, marked stopped), then exit.

        Without this the terminal came back but the process went on generating for many seconds,
        and the partial turn was never saved.
        """
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                screen.stop_everything()
        if self.is_screen_installed("models"):
            browser = self.model_browser()
            for cancel in browser.cancels.values():
                cancel.set()  # a download stops at its next chunk and keeps its .part for next time
        for worker in list(self.workers):
            if worker.group in ("reply", "downloads") and not worker.is_finished:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker.wait(), QUIT_WAIT_SECONDS)
        self.exit(return_code=self.ended_by or self.return_code or 0)

    def get_line_filters(self) -> list[LineFilter]:
        """Textual's own filters, then `TerminalSafe` on every line any widget draws."""
        return [*super().get_line_filters(), self._terminal_safe]

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver; on Linux and macOS one whose writes survive a closed terminal."""
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from tui.ui.terminal_driver import OutlivingDriver

            return OutlivingDriver
        return driver

    def unsent(self) -> list[str]:
        """Messages typed before any model loaded, when the app closed (the CLI prints them)."""
        return list(self._chat.driver.unsent) if self._chat is not None else []

    def loaded_info(self) -> EngineInfo | None:
        """The model loaded now (None while none is)."""
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen) and screen.chat is not None:
                return screen.chat.engine.info
        return None

    def model_browser(self) -> ModelBrowser:
        """The model browser, made when first opened, then kept: its downloads go on while closed."""
        from tui.ui.screens.models import ModelBrowser

        if not self.is_screen_installed("models"):
            self.install_screen(ModelBrowser(), "models")
        browser = self.get_screen("models")
        assert isinstance(browser, ModelBrowser)
        return browser

    def _handle_exception(self, error: Exception) -> None:
        """A crash: write the report first (the one line printed at exit says where).

        Textual has no public hook for an unhandled exception; this private one is where every
        one passes (tests/hostile/test_faults.py fails if a Textual release renames it)."""
        from tui.core.crash import write_report

        self.crash_report = write_report(error)
        self.crash_error = error
        super()._handle_exception(error)

    def engine_factory(self, model: str | None = None, flags: bool = False) -> ChatEngine:
        """Load ``model`` (default: the configured one); runs in a worker thread. The load flags
        apply to the configured model, and with ``flags`` to ``model`` too (a persona's model at
        start, as the CLI does), not to one picked in the model browser."""
        if self.config.engine_factory is not None:
            return self.config.engine_factory()
        if model is None:
            return load_engine(self.config)
        return load_engine(
            replace(self.config, model=model, load=self.config.load if flags else LoadOptions())
        )

    def _remember_theme(self, theme: str) -> None:
        state = load_state(get_paths())
        state.theme = theme
        try:
            save_state(get_paths(), state)
        except OSError as exc:  # the theme applies now; only remembering it failed
            said = f"The theme applies now but is not remembered: {exc}"
            self.notify(said, severity="warning", markup=False)

    def check_persona_files(self) -> None:
        """Reload the personas when a file changed on disk, and tell every open screen."""
        snapshot = self.store.snapshot()
        if snapshot == self._snapshot:
            return
        self._snapshot = snapshot
        self.personas = self.store.load()
        for screen in self.screen_stack:
            screen.post_message(PersonasChanged())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every key binding of the current screen."""
        yield from super().get_system_commands(screen)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description and binding.action != "dismiss(None)":
                yield SystemCommand(
                    binding.description,
                    f"{binding.description} ({binding.key})",
                    lambda action=binding.action: screen.run_action(action),
                )


_MODIFIERS = {"ctrl", "alt", "shift", "super", "meta", "hyper"}
_TYPING_SCREENS = ("app.", "chat.")
"""Bindings active while the message box has focus: a plain printable key there would eat typing."""


@lru_cache(maxsize=1)
def _key_names() -> frozenset[str]:
    from textual.keys import Keys

    names = {key.value.split("+")[-1] for key in Keys}
    names |= {f"f{n}" for n in range(1, 25)} | {"space", "enter", "tab", "backspace", "escape"}
    return frozenset(names)


def _is_character_name(name: str) -> bool:
    """``left_square_bracket`` and friends: names of keys that type a character (read with
    Textual's public `key_to_character`, the inverse of how it names keys)."""
    from textual.keys import key_to_character

    character = key_to_character(name)
    return len(name) > 1 and character is not None and len(character) == 1 and 32 < ord(character) < 127


def key_problem(binding_id: str, keys: str) -> str | None:
    """Why ``keys`` cannot be bound to ``binding_id`` (None: it can)."""
    for key in (k.strip() for k in keys.split(",")):
        *modifiers, name = key.split("+")
        if (
            not key
            or not name
            or any(m not in _MODIFIERS for m in modifiers)
            or len(set(modifiers)) < len(modifiers)
        ):
            return f"`{key}` is not a key (modifiers are {', '.join(sorted(_MODIFIERS))}, e.g. ctrl+b)"
        known = name in _key_names() or _is_character_name(name)
        if not known and not (len(name) == 1 and name.isprintable()):
            return f"`{name}` in `{key}` is not a key name (e.g. f5, escape, enter, a, left_square_bracket)"
        plain = not set(modifiers) & {"ctrl", "alt", "super", "meta", "hyper"}
        printable = len(name) == 1 or name == "space" or _is_character_name(name)
        if plain and printable and binding_id.startswith(_TYPING_SCREENS):
            return f"`{key}` is typed into the message box; bind it with ctrl or alt"
    return None


def checked_keymap(keymap: dict[str, str], source: str) -> tuple[dict[str, str], list[Problem]]:
    """The bindings that can be used, and a problem for each that cannot (the default stays)."""
    good, problems = {}, []
    for binding_id, keys in keymap.items():
        reason = key_problem(binding_id, keys)
        if reason:
            problems.append(
                Problem(source, reason, entry=f"[keymap] {binding_id}", hint="the default key stays")
            )
        else:
            good[binding_id] = keys
    return good, problems


def load_engine(config: AppConfig) -> ChatEngine:
    """Resolve the model and load it, or connect to the server (runs in a worker thread)."""
    engine = _load(config)
    if config.chat_template_file is not None:
        engine.use_template_file(config.chat_template_file)
    return engine


def _load(config: AppConfig) -> ChatEngine:
    if config.server is not None:
        from tui.core.engine.server import ServerEngine

        return ServerEngine(config.server)
    from tui.core.engine.local import open_local

    return open_local(config.model, config.load)


def create_app(config: AppConfig | None = None) -> LlmTuiApp:
    return LlmTuiApp(config or AppConfig())
