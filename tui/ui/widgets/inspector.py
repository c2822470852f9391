"""The hidden prompt inspector: the exact text and tokens the model receives, part by part.

It shows the prompt of the next turn (live, as you type) or of any earlier turn, with special
tokens in reverse video, each part in its own colour, and the text the template wrote on its own
underlined. ``t`` shades token boundaries, ``i`` adds token ids, ``d`` dims what the previous turn
had already sent, ``[``/``]`` move between turns, ``c``/``j`` copy the text or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from tui.core.chat.session import Chat, Session
from tui.core.engine.values import ContextFullError
from tui.core.prompt.build import Prompt
from tui.core.prompt.parts import (
    appended_from,
    char_kinds,
    injected_ranges,
    parts,
    thinking_fates,
    token_char_ranges,
)
from tui.core.prompt.template import TemplateRenderError
from tui.core.teach.provenance import identity_note, of_file
from tui.core.text_safety import same_length_visible
from tui.ui.actions import bindings

KIND_STYLES = {
    "system": "magenta",
    "template": "dim",
    "history": "",
    "thinking": "italic yellow",
    "message": "bold cyan",
    "generation": "green",
    "reply": "bold magenta",
}
INSPECT_DELAY = 0.15
"""Seconds of no typing before the inspector re-renders the next turn's prompt."""
SHADES = ("on #262636", "on #36263a")
TYPED_SPECIAL = "underline red"
"""Message text that looks like a special token: typed, kept as text (never a control token)."""
ROLE_STYLES = {"system": "magenta", "user": "cyan", "assistant": "bright_white"}
"""Each earlier message in its role's colour; the new message is bold on top (`KIND_STYLES`)."""


def render_prompt(prompt: Prompt, previous: str | None, tokens: bool, ids: bool) -> Text:
    """The prompt as styled text; every character of ``prompt.text`` appears exactly once."""
    text = Text()
    all_kinds, token_ranges = char_kinds(prompt), token_char_ranges(prompt)
    kinds = [(s, e, KIND_STYLES[k]) for s, e, k in all_kinds if k != "history"]
    kinds += [(sp.start, sp.end, ROLE_STYLES.get(sp.role, "")) for sp in prompt.spans if sp is not None]
    injected = injected_ranges(prompt, all_kinds, token_ranges)
    kept = appended_from(previous, prompt.text) if previous is not None else 0
    for index, ((start, end), token) in enumerate(zip(token_ranges, prompt.tokens, strict=True)):
        if start == end:
            continue
        piece = Text(same_length_visible(prompt.text[start:end]))
        for s, e, style in kinds:
            if s < end and e > start and style:
                piece.stylize(style, max(s, start) - start, min(e, end) - start)
        for s, e in injected:
            if s < end and e > start:
                piece.stylize("underline yellow", max(s, start) - start, min(e, end) - start)
        for s, e in prompt.literal_specials:
            if s < end and e > start:
                piece.stylize(TYPED_SPECIAL, max(s, start) - start, min(e, end) - start)
        if token.special:
            piece.stylize("reverse bold")
        if tokens:
            piece.stylize(SHADES[index % 2])
        if start < kept:
            piece.stylize("dim", 0, min(kept, end) - start)
        text.append_text(piece)
        if ids:
            text.append(f"⟨{token.id}⟩", style="dim italic")
    return text


def summary(prompt: Prompt, n_ctx: int) -> Text:
    line = Text()
    for part in parts(prompt):
        line.append(f"{part.label}: ", style=KIND_STYLES[part.kind] or "bold")
        line.append(f"{part.tokens}  ")
    line.append(f"= {len(prompt)} of {n_ctx} tokens", style="bold")
    return line


def path_notes(session: Session, info_path: Path | None = None) -> tuple[str, ...]:
    """What the inspector says about the path: siblings never sent, turns re-sent from a file."""
    notes = []
    branches, turns = session.tree.unsent()
    if branches:
        notes.append(
            f"{branches} other branch(es) ({turns} turn(s)) are kept but not sent: "
            "the model sees only this path."
        )
    made = of_file(info_path) if info_path is not None else None
    if made is not None:
        notes.append(identity_note(made, session.system))
    reopened = sum(t.origin == "reopened" for t in session.turns)
    if reopened and session.reopened_from:
        notes.append(
            f"{reopened} turn(s) come from the saved transcript {session.reopened_from}: the model remembers "
            "none of it; everything it knows of them is this re-sent text."
        )
    return tuple(notes)


class Inspector(VerticalScroll, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = bindings("inspector")

    tokens = reactive(False)
    ids = reactive(False)
    diff = reactive(True)

    def __init__(self) -> None:
        super().__init__(id="inspector")
        self.prompts: list[Prompt] = []
        """The prompt of every turn so far, then the live next one (if any)."""
        self.position = -1
        self.n_ctx = 0
        self.dropped: list[str] = []
        """The user messages of turns no longer in the prompt (dropped to fit the context)."""
        self.note = ""
        self.aside: tuple[str, ...] = ()
        """What the path holds beside the prompt: branches not sent, turns re-sent from a file."""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="inspector-title")
        yield Static("", id="inspector-summary")
        yield Static("", id="inspector-prompt")

    def draft_changed(self, chat: Chat | None, draft: str) -> None:
        """The message box changed: re-render the next turn's prompt once typing pauses."""
        if self._timer is not None:
            self._timer.stop()
        if chat is not None and self.display:
            self._timer = self.set_timer(INSPECT_DELAY, lambda: self.follow(chat, draft))

    def follow(self, chat: Chat, draft: str) -> None:
        """Show the prompts of ``chat``'s session, and of ``draft`` as the next turn if it is not empty.

        The next turn's prompt is rendered in a worker thread: a template may take up to its time
        limit, and the screen must never wait for it. A newer keystroke supersedes an older render.
        """
        self._follow(chat, draft)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect")
    def _follow(self, chat: Chat, draft: str) -> None:
        session = chat.session
        turns = session.turns
        prompts = [turn.prompt for turn in turns]
        dropped, note = [t.user for t in turns[: session.first_kept]], ""
        if draft.strip():
            try:
                preview = session.prepare(chat.engine, draft)
                prompts.append(preview.prompt)
                dropped += [turns[i].user for i in preview.dropped]
            except (ContextFullError, TemplateRenderError) as exc:
                note = f"The next turn cannot be sent: {exc}"
        else:
            note = "Type a message to see the prompt it will be sent as; [ and ] show earlier turns."
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(
                self.show,
                prompts,
                chat.engine.info.n_ctx,
                dropped,
                note,
                path_notes(session, chat.engine.info.path if not chat.engine.info.server else None),
            )

    def show(
        self,
        prompts: list[Prompt],
        n_ctx: int,
        dropped: list[str],
        note: str = "",
        aside: tuple[str, ...] = (),
    ) -> None:
        self.prompts, self.n_ctx, self.dropped, self.note, self.aside = prompts, n_ctx, dropped, note, aside
        self.position = len(prompts) - 1
        self.redraw()

    @property
    def current(self) -> Prompt | None:
        return self.prompts[self.position] if 0 <= self.position < len(self.prompts) else None

    def redraw(self) -> None:
        prompt = self.current
        title, summary_text, body = (
            self.query_one("#inspector-title", Static),
            self.query_one("#inspector-summary", Static),
            self.query_one("#inspector-prompt", Static),
        )
        if prompt is None:
            title.update(Text("The hidden prompt", "bold"))
            summary_text.update("")
            body.update(Text(self.note))
            return
        live = not self.note and self.position == len(self.prompts) - 1
        which = "the next turn (live, as you type)" if live else ""
        label = which or f"turn {self.position + 1} of {len(self.prompts)}"
        header = Text.assemble(("The hidden prompt of ", "bold"), (label, "bold"))
        header.append(f"\nrendered with {same_length_visible(prompt.template_name)}", "dim")
        if self.dropped and self.position == len(self.prompts) - 1:
            header.append(f"\n{len(self.dropped)} earlier turn(s) dropped to fit the context:", "yellow")
            for user in self.dropped:
                first = user.splitlines()[0] if user.strip() else user
                header.append(f"\n  ✗ {first[:60]}", "yellow strike")
        for note in prompt.notes:
            header.append(f"\n{note}", "yellow")
        for line in self.aside:
            header.append(f"\n{line}", "cyan")
        if prompt.fed_back is not None:
            start = prompt.fed_back[0]
            header.append(
                f"\nTokens {start + 1}–{len(prompt)} are the reply's own ids fed back as they were, the "
                "chosen runner-up last (press i to see the ids)",
                "magenta",
            )
        for fate in thinking_fates(prompt):
            if fate.resent:
                said = f"re-sent by the template ({fate.tokens} tokens)"
                header.append(f"\nreply {fate.reply}'s thinking: {said}", KIND_STYLES["thinking"])
            else:
                said = f"dropped by the template ({fate.chars} characters not sent)"
                header.append(f"\nreply {fate.reply}'s thinking: {said}", "dim")
        if prompt.literal_specials:
            count = len(prompt.literal_specials)
            header.append(
                f"\n{count} special-token look-alike(s) in the messages: typed, kept as text", TYPED_SPECIAL
            )
        if self.note:
            header.append(f"\n{same_length_visible(self.note)}", "dim")
        header.append("\nreverse: special tokens · underlined: written by the template itself", "dim")
        title.update(header)
        summary_text.update(summary(prompt, self.n_ctx))
        previous = self.prompts[self.position - 1].text if self.diff and self.position > 0 else None
        body.update(render_prompt(prompt, previous, self.tokens, self.ids))

    def watch_tokens(self) -> None:
        self._safe_redraw()

    def watch_ids(self) -> None:
        self._safe_redraw()

    def watch_diff(self) -> None:
        self._safe_redraw()

    def _safe_redraw(self) -> None:
        if self.is_mounted:
            self.redraw()

    def action_flip(self, name: str) -> None:
        setattr(self, name, not getattr(self, name))

    def action_move(self, step: int) -> None:
        if self.prompts:
            self.position = max(0, min(len(self.prompts) - 1, self.position + step))
            self.redraw()

    def action_copy(self, kind: str) -> None:
        prompt = self.current
        if prompt is None:
            return
        text = prompt.text if kind == "text" else json.dumps(prompt.to_json(), ensure_ascii=False, indent=2)
        self.app.copy_to_clipboard(text)
        self.app.notify(
            f"Copied the prompt as {'text' if kind == 'text' else 'JSON'} ({len(prompt)} tokens)."
        )
