"""The experiments as a command provider for Textual's palette (ctrl+p) on the chat screen.

They are commands, not keys: the identity probe and the memory test each open a screen of their own.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.ui.screens.experiments import MemoryTestScreen, ProbeScreen

if TYPE_CHECKING:
    from tui.ui.hosts import ChatHost

EXPERIMENTS = {
    "Identity probe": "Ask who the model is, with and without personas",
    "Memory test": "Tell the model a fact, start a new session, ask for it",
    "Teach the persona into the model": "Its identity from the weights, not a hidden message",
}


class ExperimentCommands(Provider):
    """Offers the experiments while a model is loaded on the chat screen."""

    def _run(self, name: str) -> None:
        chat = cast("ChatHost", self.screen)  # the provider is the chat screen's (COMMANDS)
        if chat.chat is None:
            self.app.notify("The model is still loading.", severity="warning")
            return
        from tui.core.chat.experiments import probe_subjects
        from tui.core.chat.settings import Overrides

        settings = chat.settings()
        if name.startswith("Teach"):
            from tui.ui.screens.persona_flow import open_teach

            open_teach(chat, chat.persona_id)
        elif name == "Identity probe":
            config = chat.config
            overrides = Overrides(thinking=config.thinking, template_file=config.chat_template_file)
            subjects = probe_subjects(chat.llm_app.personas, also=chat.persona_id, overrides=overrides)
            self.app.push_screen(ProbeScreen(chat.chat.engine, settings.sampling, subjects))
        else:
            self.app.push_screen(MemoryTestScreen(chat.chat.engine, settings))

    async def discover(self) -> Hits:
        for name, help_text in EXPERIMENTS.items():
            yield DiscoveryHit(name, partial(self._run, name), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text in EXPERIMENTS.items():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, name), help=help_text)
