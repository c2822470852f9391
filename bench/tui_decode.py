"""Does the screen eat the decode? The real app and the real engine, against the same engine alone.

Alternating rounds: a reply streamed through the TUI (``app.run_test()``: the real screens, layout and
compositor, with the model decoding in its worker thread) and the same reply generated headless, as
`llm-tui ask` does, from an empty cache with the same prompt, seed and threads. Reported: medians of
tokens per second, the median of each round's TUI/headless ratio (a pair measured back to back, so
drift in the machine's speed cancels), and the share of a core the UI thread (the event loop) used
from enter to the reply's footer.

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
from tui.ui.widgets.conversation import ReplyFooter

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


async def through_the_tui(engine: Engine, sampling: Sampling, inspector: bool) -> tuple[float, float]:
    engine.reset()
    app = create_app(AppConfig(sampling=sampling, engine_factory=lambda: engine))
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen_stack[1]
        assert isinstance(chat, ChatScreen)
        while chat.chat is None:
            await pilot.pause(0.02)
        if inspector:
            await pilot.press("f2")
        chat.query_one(ChatInput).insert(PROMPT)
        wall, cpu = time.perf_counter(), time.thread_time()
        await pilot.press("enter")
        while not chat.query(ReplyFooter):
            await asyncio.sleep(0.1)  # not pilot.pause: that waits for idle and costs UI time itself
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        assert chat.chat is not None
        stats = chat.chat.session.turns[-1].stats
        assert stats is not None
        chat.driver.chat = None  # the engine is shared: the app must not close it
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
    ask, tui, ui_share = [], [], []
    for _ in range(args.rounds):
        ask.append(on_compute_thread(headless, engine, sampling))
        speed, share = asyncio.run(through_the_tui(engine, sampling, args.inspector))
        tui.append(speed)
        ui_share.append(share)
    a, t = statistics.median(ask), statistics.median(tui)
    print(
        f"threads {engine.info.n_threads}, {args.tokens} tokens, medians of {args.rounds} alternating rounds"
    )
    pairs = list(zip(ask, tui, strict=True))
    print("  rounds (headless / TUI tok/s): " + ", ".join(f"{h:.0f}/{v:.0f}" for h, v in pairs))
    print(f"  headless (as `ask`)   {a:6.1f} tok/s")
    ratio = statistics.median(v / h for h, v in pairs)
    print(f"  through the TUI       {t:6.1f} tok/s   ratio {ratio:.3f} (median of the rounds' ratios)")
    print(f"  UI thread while streaming: {100 * statistics.median(ui_share):.0f}% of a core")


if __name__ == "__main__":
    main()
