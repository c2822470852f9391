"""How fast the chat view absorbs a streamed reply, and whether the cost per token stays flat.

A synthetic stream of 20,000 tokens of mixed Markdown (paragraphs, lists, code fences) goes through
the same path as a real reply: batches handed to `Reply.add` (Textual's Markdown stream), as the
worker does 8 times a second, each counted once the screen has refreshed with it (not when it is
queued). Reported, after a warm-up, medians of 3: tokens per second painted, and the time per
2,000-token window, first against last (flat means the ratio stays near 1).

    python bench/render.py [--tokens 20000] [--batch 240] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Iterator

from textual.app import App, ComposeResult

from tui.ui.widgets.conversation import Conversation

WORDS = "the model reads every token of the prompt again and writes one new token at a time".split()


def tokens(count: int, seed: int = 7) -> Iterator[str]:
    """Word-sized pieces forming paragraphs, bullet lists and fenced code, like a chatty reply."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        kind = rng.choice(("paragraph", "paragraph", "list", "code"))
        if kind == "code":
            piece = ["```python\n"] + [
                f"value_{i} = compute({i}, {i + 1})\n" for i in range(rng.randint(3, 8))
            ]
            piece.append("```\n\n")
        elif kind == "list":
            piece = [
                f"- {' '.join(rng.choices(WORDS, k=rng.randint(4, 9)))}\n" for _ in range(rng.randint(2, 5))
            ]
            piece.append("\n")
        else:
            piece = [" ".join(rng.choices(WORDS, k=rng.randint(25, 60))) + ".\n\n"]
        for line in piece:
            for part in line.split(" "):
                yield part + " " if not part.endswith("\n") else part
                made += 1
                if made >= count:
                    return


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Conversation(id="conversation")


async def run(total: int, batch: int, window: int, paced: bool) -> tuple[float, list[float]]:
    """Feed the reply ``batch`` tokens at a time, 30 times a second when ``paced`` (as the worker does),
    else as fast as the UI takes them. Returns the total time and the time of each token window."""
    app = Host()
    windows: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await app.query_one(Conversation).start_turn("Write a long answer")
        reply = await turn.start_reply()
        stream = list(tokens(total))
        started = window_start = next_batch = time.perf_counter()
        for index in range(0, total, batch):
            await reply.add("".join(stream[index : index + batch]))
            await painted(app)  # counted once the screen shows it, not when it is queued
            next_batch += 1 / 8
            await asyncio.sleep(max(0.0, next_batch - time.perf_counter()) if paced else 0)
            if (index + batch) % window < batch:
                now = time.perf_counter()
                windows.append(now - window_start)
                window_start = now
        await reply.finish()
        await painted(app)
        elapsed = time.perf_counter() - started
        await pilot.pause()
    return elapsed, windows


async def painted(app: App[None]) -> None:
    """Wait until the screen has refreshed with everything added so far."""
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument(
        "--batch", type=int, default=240, help="tokens per UI update (240 = 1,920 tok/s at 8 Hz)"
    )
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(2_000, args.batch, args.window, paced=False))  # warm-up: imports, caches
    for paced in (True, False):
        results = [asyncio.run(run(args.tokens, args.batch, args.window, paced)) for _ in range(args.rounds)]
        elapsed = statistics.median(r[0] for r in results)
        windows = [statistics.median(r[1][i] for r in results) for i in range(len(results[0][1]))]
        offered = f"paced at 8 batches/s ({args.batch * 8:,} tok/s offered)"
        mode = offered if paced else "as fast as the screen paints"
        per_token = [w / args.window * 1e6 for w in windows]
        rate = f"{args.tokens / elapsed:,.0f} tokens/s painted"
        print(f"{mode}: {args.tokens} tokens in {elapsed:.2f}s = {rate} (median of {args.rounds})")
        print("  µs per token, window by window:", " ".join(f"{v:.0f}" for v in per_token))
        print(f"  last window / first window: {per_token[-1] / per_token[0]:.2f}")


if __name__ == "__main__":
    main()
