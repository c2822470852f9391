"""Does the screen eat the decode? The real app and the real engine, against the same engine alone.

Alternating rounds: a reply streamed through the TUI (``app.run_test()``: the real screens, layout and
compositor, with the model decoding in its worker thread) and the same reply generated headless, as
`llm-tui ask` does, from an empty cache with the same prompt, seed and threads; then the TUI again
as it was before the decoder lent the screen a core (it waited out each paint instead). Reported:
medians of tokens per second, the median of each round's TUI/headless ratio (a pair measured back
to back, so drift in the machine's speed cancels), and the share of a core the UI thread (the event
loop) used from enter to the end of the reply.

    python bench/tui_decode.py [--rounds 7] [--tokens 600]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.compute_thread import on_compute_thread
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.core.models.embedded import embedded_model_path
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Conversation

PROMPT = "Write a long, detailed essay about the history of bread, with many sections and lists."


def headless(engine: Engine, sampling: Sampling) -> float:
    engine.reset()
    chat = Chat(engine, None, sampling)
    stats = None
    for event in chat.send(PROMPT):
        if not hasattr(event, "text"):
            stats = event
    assert stats is not None
    return float(stats.tokens_per_second)


async def through_the_tui(
    engine: Engine, sampling: Sampling, inspector: bool, lend: bool = True
) -> tuple[float, float]:
    engine.reset()
    if not lend:  # as before: the decoder stops while the screen paints
        engine.lend_core = lambda: False  # type: ignore[method-assign]
    app = create_app(AppConfig(sampling=sampling, engine_factory=lambda: engine))
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen_stack[1]
        assert isinstance(chat, ChatScreen)
        while chat.chat is None:
            await pilot.pause(0.02)
        if inspector:
            await pilot.press("f2")
        chat.query_one(ChatInput).insert(PROMPT)
        conversation = chat.query_one(Conversation)
        wall, cpu = time.perf_counter(), time.thread_time()
        await pilot.press("enter")
        # Polled with attribute reads only: not pilot.pause, which waits for idle, and no DOM
        # query, whose walk costs the UI thread time the real app does not spend.
        assert chat.chat is not None
        session = chat.chat.session
        while not (session.turns and session.turns[-1].stats and conversation.streaming is None):
            await asyncio.sleep(0.1)  # a short reply may have ended before the first look
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        stats = session.turns[-1].stats
        assert stats is not None
        chat.driver.chat = None  # the engine is shared: the app must not close it
        vars(engine).pop("lend_core", None)
        return stats.tokens_per_second, cpu / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=600)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: as the app)")
    parser.add_argument("--inspector", action="store_true", help="with the inspector open (f2)")
    args = parser.parse_args()
    path = embedded_model_path()
    assert path is not None
    # Everything on the one compute thread, as in the app (and as `ask` does on its main thread):
    # llama.cpp's OpenMP teams in two threads would slow both sides down (see compute_thread).
    engine = on_compute_thread(Engine, path, LoadOptions(n_ctx=2048, n_threads=args.threads))
    sampling = Sampling(temperature=0.0, max_tokens=args.tokens, seed=1, repeat_penalty=1.0)
    lends = {"through the TUI": True, "  before: waiting out each paint": False}
    ask: list[float] = []
    tui: dict[str, list[float]] = {name: [] for name in lends}
    ui_share: list[float] = []
    for _ in range(args.rounds):
        ask.append(on_compute_thread(headless, engine, sampling))
        for name, lend in lends.items():
            speed, share = asyncio.run(through_the_tui(engine, sampling, args.inspector, lend))
            tui[name].append(speed)
            if lend:
                ui_share.append(share)
    print(
        f"threads {engine.info.n_threads}, {args.tokens} tokens, medians of {args.rounds} alternating rounds"
    )
    print(f"  headless (as `ask`)               {statistics.median(ask):6.1f} tok/s")
    for name, speeds in tui.items():
        pairs = list(zip(ask, speeds, strict=True))
        ratio = statistics.median(v / h for h, v in pairs)
        rounds = ", ".join(f"{v / h:.2f}" for h, v in pairs)
        print(f"  {name:32}  {statistics.median(speeds):6.1f} tok/s   ratio {ratio:.3f} (rounds: {rounds})")
    print(f"  UI thread while streaming: {100 * statistics.median(ui_share):.0f}% of a core")


if __name__ == "__main__":
    main()
