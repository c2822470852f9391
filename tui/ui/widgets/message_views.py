"""The messages of a conversation as widgets: what the user typed, and the model's streamed reply.

Both can be focused (tab): copy them, edit them (a new branch) and switch between their siblings;
the screen does the work, told by a `BranchAsked` or `EditAsked` message.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from tui.core.chat.tree import Side, Turn
from tui.ui.actions import bindings

if TYPE_CHECKING:
    from textual.widgets import Markdown

CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@runtime_checkable
class HoldsTurn(Protocol):
    """What a message widget sits in: the exchange it shows (None until its reply is recorded)."""

    turn: Turn | None


def turn_of(widget: Widget) -> Turn | None:
    """The session turn ``widget`` shows, read from the exchange it sits in."""
    holder = widget.parent
    return holder.turn if isinstance(holder, HoldsTurn) else None


@dataclass
class BranchAsked(Message):
    """Switch to the sibling ``step`` away from this message (alt+left/alt+right)."""

    turn: Turn
    side: Side
    step: int


@dataclass
class RegenerateAsked(Message):
    """Sample this reply again (``r`` on a focused message): a sibling, with a new seed."""

    turn: Turn


@dataclass
class EditAsked(Message):
    """Edit this message: a user message is sent again edited, a reply is continued from the edit."""

    turn: Turn
    side: Side


def code_blocks(text: str) -> list[str]:
    return [block.rstrip("\n") for block in CODE_BLOCK.findall(text)]


MESSAGE_BINDINGS: list[BindingType] = bindings("message")


class MessageView(Widget):
    """A message the user can focus (tab): copy it (``c``) or its code (``k``), edit it (``e``),
    sample its reply again (``r``) and switch to its siblings (alt+left/alt+right).

    Listed after the widget class it is mixed into, because Textual takes type selectors
    (``Static``'s ``height: auto``) and bindings along the first base only: each message class
    names ``MESSAGE_BINDINGS`` itself.
    """

    side: ClassVar[Side] = "user"

    def copy_text(self) -> str:
        return ""

    def action_copy(self) -> None:
        copy_to_clipboard(self, self.copy_text(), "message")

    def action_copy_code(self) -> None:
        blocks = code_blocks(self.copy_text())
        if not blocks:
            self.app.notify("No code block in this message.", severity="warning")
            return
        copy_to_clipboard(self, blocks[-1], "code block")

    def action_edit(self) -> None:
        if (turn := turn_of(self)) is not None:  # a reply still streaming has no turn yet
            self.post_message(EditAsked(turn, self.side))

    def action_branch(self, step: int) -> None:
        if (turn := turn_of(self)) is not None:
            self.post_message(BranchAsked(turn, self.side, step))

    def action_regenerate(self) -> None:
        if (turn := turn_of(self)) is not None:
            self.post_message(RegenerateAsked(turn))

    def on_key(self, event: events.Key) -> None:
        type_into_the_box(self, event)

    def on_focus(self) -> None:
        what = "reply" if self.side == "reply" else "message"
        say_focus(
            self, f"{what} above has focus: e edit · r regenerate · c copy · alt+←/→ · typing goes here"
        )

    def on_blur(self) -> None:
        say_focus(self, None)


def type_into_the_box(widget: Widget, event: events.Key) -> None:
    """A printable key that is not one of ``widget``'s own goes to the message box with its
    character: typing after an action that left focus on a message (or the token view) is never
    eaten, nor run as ``r``."""
    if event.key in widget.screen.active_bindings or not event.is_printable or not event.character:
        return
    from tui.ui.widgets.chat_input import ChatInput

    boxes = widget.screen.query(ChatInput)
    if boxes:
        event.stop()
        event.prevent_default()
        boxes.first().type_in(event.character)


def say_focus(widget: Widget, text: str | None) -> None:
    """Where focus is, said on the message box's border (the footer's room goes to screen keys)."""
    from tui.ui.widgets.chat_input import ChatInput

    for box in widget.screen.query(ChatInput):
        box.border_subtitle = text


def copy_to_clipboard(widget: Widget, text: str, what: str) -> None:
    """Through the terminal (OSC 52), with feedback: many terminals honour it, some ignore it."""
    widget.app.copy_to_clipboard(text)
    widget.app.notify(f"Copied the {what} ({len(text)} characters) to the clipboard.")


class UserMessage(Static, MessageView, can_focus=True):
    """What the user typed, shown as typed (no Markdown: nothing of it is reinterpreted)."""

    BINDINGS: ClassVar[list[BindingType]] = MESSAGE_BINDINGS

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False)
        self.text = text

    def copy_text(self) -> str:
        return self.text


class Reply(Vertical, MessageView, can_focus=True):
    """One reply, streamed into Textual's Markdown widget with `Markdown.append`.

    The reply stream already batches text (see reply_stream), so fragments are appended directly
    rather than through a `MarkdownStream`, whose own queue would let the screen report a batch as
    painted before it was even parsed.

    Only the tail of a long reply stays a live `Markdown` widget. Completed blocks further up are
    handed to one `Static` each (rendered once, height cached), because Textual lays out every
    widget on every refresh: a reply that stayed one growing Markdown tree would cost more per
    token the longer it got.
    """

    BINDINGS: ClassVar[list[BindingType]] = MESSAGE_BINDINGS
    side: ClassVar[Side] = "reply"

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[str] = []
        self._live_text = ""
        self.thinking: ThinkingBlock | None = None
        self.live: Markdown | None = None

    def compose(self) -> ComposeResult:
        # Imported with the first reply: markdown-it and Rich's Markdown cost the first frame ~30 ms.
        from textual.widgets import Markdown

        from tui.ui.widgets.line_breaks import reply_parser

        self.live = Markdown(self._live_text, classes="live", parser_factory=reply_parser)
        yield self.live

    def _shown(self) -> Markdown | None:
        """The live tail, where it is on screen: a reply removed while it mounted (a newer redraw
        of the path) keeps its text and draws nothing."""
        return self.live if self.live is not None and self.is_attached else None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def copy_text(self) -> str:
        return self.text

    async def think(self, text: str, tokens: int) -> None:
        """More thinking: into a dimmed block above the answer, which folds once the answer starts."""
        if self.thinking is None:
            self.thinking = ThinkingBlock()
            await self.mount(self.thinking, before=0)
        self.thinking.add(text, tokens)

    async def restore(self, thinking: str, tokens: int | None, answer: str) -> None:
        """A reply made earlier (a branch shown again): whole at once, its thinking folded."""
        if thinking and self.is_attached:
            self.thinking = ThinkingBlock()
            await self.mount(self.thinking, before=0)
            self.thinking.restored(thinking, tokens)
        await self.add(answer)
        await self.finish()

    async def add(self, fragment: str) -> None:
        if not fragment:
            return
        if self.thinking is not None:
            self.thinking.answer_started()
        self._parts.append(fragment)
        self._live_text += fragment
        if len(self._live_text) >= FREEZE_CHARS:
            cut = safe_cut(self._live_text)
            if cut > 0:
                await self._freeze(cut)
                return
        if (live := self._shown()) is not None:
            await live.append(fragment)

    async def _freeze(self, cut: int) -> None:
        """Move the first ``cut`` characters of the live text into a frozen segment."""
        done, self._live_text = self._live_text[:cut], self._live_text[cut:]
        if (live := self._shown()) is not None:
            await self.mount(FrozenBlock(done), before=live)
            await live.update(self._live_text)

    async def finish(self) -> None:
        """Render the live tail whole once: text appended in pieces (a fence cut open) can parse wrong."""
        if self.thinking is not None:
            self.thinking.reply_ended()
        if (live := self._shown()) is not None:
            await live.update(self._live_text)


clock = time.monotonic
"""How thinking is timed (a snapshot test swaps in a steady one)."""


class ThinkingBlock(Collapsible):
    """A reasoning model's thinking: only more generated text, shown dimmed and apart from the
    answer, with how many tokens and how long it took; folded once the answer starts."""

    def __init__(self) -> None:
        self.text = ""
        self.tokens = 0
        self._started = clock()
        self._seconds: float | None = None
        self.body = Static("", markup=False, classes="thinking-text")
        super().__init__(self.body, title="Thinking…", collapsed=False, classes="thinking")

    def add(self, text: str, tokens: int) -> None:
        self.text += text
        self.tokens = tokens
        self.body.update(self.text)
        self._retitle()

    def restored(self, text: str, tokens: int | None) -> None:
        """Thinking of a reply made earlier: its time was not kept, its tokens only with confidence."""
        self.add(text, tokens or 0)
        self._seconds = 0.0
        self.collapsed = True
        self.title = f"Thinking · {tokens} tokens" if tokens else f"Thinking · {len(text)} characters"

    def answer_started(self) -> None:
        if self._seconds is None:
            self._seconds = clock() - self._started
            self.collapsed = True
            self._retitle()

    def reply_ended(self) -> None:
        """The reply ended inside its thinking (stopped, or a model that never closed the block)."""
        if self._seconds is None:
            self._seconds = clock() - self._started
            self._retitle(" · no answer after it")

    def _retitle(self, more: str = "") -> None:
        took = f" · {self._seconds:.1f} s" if self._seconds is not None else ""
        still = "" if self._seconds is not None else "…"
        self.title = f"Thinking{still} · {self.tokens} tokens{took}{more}"


class FrozenBlock(Static):
    """Completed blocks of a long reply, rendered once with Rich (their Markdown text kept)."""

    def __init__(self, markdown: str) -> None:
        from rich.markdown import Markdown as RichMarkdown

        from tui.ui.widgets.line_breaks import harden

        rendered = RichMarkdown(markdown)
        harden(rendered.parsed)  # the model's line breaks kept, as in the live part
        super().__init__(rendered, classes="frozen")
        self.markdown = markdown


FREEZE_CHARS = 600
"""Live Markdown text kept before completed blocks are frozen."""


def safe_cut(text: str) -> int:
    """The end of the last complete block outside a code fence (a blank line), or 0."""
    cut = text.rfind("\n\n")
    while cut > 0:
        if text.count("```", 0, cut) % 2 == 0:
            return cut + 2
        cut = text.rfind("\n\n", 0, cut)
    return 0
