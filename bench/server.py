"""Decode over llama-server as llm-tui sees it, against the server's own count, in-process, and split.

Four rows, alternating rounds, medians of 7, SmolLM2-135M, greedy, 128 tokens from an empty cache:

- the server's own ``timings.predicted_per_second`` for each reply (its decode, nothing else);
- the same replies as llm-tui's server engine measured them (streamed events, JSON, HTTP on
  loopback): the ratio to the row above is llm-tui's overhead;
- the in-process engine on the same model and threads;
- a server that splits the model over two `ggml-rpc-server` processes on loopback (`--rpc A,B
  -ngl 99`): the cost of the split itself, without a network.

Client and server share this machine's cores, as they would not across a network.

    python bench/server.py [--rounds 7] [--tokens 128]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server.llama_server import LlamaServer, RpcServer  # noqa: E402
from tui.core.chat.sampling import Sampling  # noqa: E402
from tui.core.chat.session import ChatEngine  # noqa: E402
from tui.core.engine.llama import Engine, quiet_python_output  # noqa: E402
from tui.core.engine.server import ServerEngine  # noqa: E402
from tui.core.engine.values import LoadOptions, ReplyStats  # noqa: E402
from tui.core.models.embedded import embedded_model_path  # noqa: E402
from tui.core.prompt.messages import Message  # noqa: E402
from tui.core.settings.server import ServerSettings  # noqa: E402

PROMPT = "Count from one to five hundred in words, separated by commas, and never stop early."


def reply(engine: ChatEngine, tokens: int) -> ReplyStats:
    engine.reset()
    prompt = engine.build_prompt([Message("user", PROMPT)])
    stats = [e for e in engine.generate(prompt, Sampling(temperature=0, seed=1, max_tokens=tokens))][-1]
    assert isinstance(stats, ReplyStats) and stats.completion_tokens == tokens, stats
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    model = embedded_model_path()
    assert model is not None
    rows: dict[str, list[float]] = {
        "server's own count (timings)": [],
        "llm-tui over the server": [],
        "in-process engine": [],
        "over a 2-way RPC split (llm-tui)": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        workers = [RpcServer(logs / f"rpc{i}.log") for i in range(2)]
        plain = LlamaServer(model, logs / "plain.log")
        rpc = ",".join(f"127.0.0.1:{w.port}" for w in workers)
        split = LlamaServer(model, logs / "split.log", "--rpc", rpc, "-ngl", "99")
        try:
            remote = ServerEngine(ServerSettings(plain.url))
            remote_split = ServerEngine(ServerSettings(split.url))
            with quiet_python_output():
                local = Engine(model, LoadOptions(n_ctx=2048, n_threads=2))
            for engine in (remote, remote_split, local):
                reply(engine, 8)  # warm up
            for _ in range(args.rounds):
                stats = reply(remote, args.tokens)
                rows["llm-tui over the server"].append(stats.tokens_per_second)
                rows["server's own count (timings)"].append(
                    float(remote.last_report["timings"]["predicted_per_second"])
                )
                rows["in-process engine"].append(reply(local, args.tokens).tokens_per_second)
                rows["over a 2-way RPC split (llm-tui)"].append(
                    reply(remote_split, args.tokens).tokens_per_second
                )
            for engine in (remote, remote_split, local):
                engine.close()
        finally:
            for process in (plain, split, *workers):
                process.stop()
    base = statistics.median(rows["server's own count (timings)"])
    print(
        f"SmolLM2-135M, 2 threads, {args.tokens} tokens, greedy, medians of {args.rounds} alternating rounds"
    )
    print(f"{'':36} {'median tok/s':>12} {'vs server timings':>18}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:36} {median:12.1f} {median / base:18.3f}")


if __name__ == "__main__":
    main()
