"""Teaching a persona into SmolLM2-135M: speed against llama.cpp's own llama-finetune, peak memory
against the estimate shown before a run, and what it buys, measured against the hidden message.

Speed: the same number of 256-token windows, the same threads, one epoch each, alternating rounds;
llama-finetune (built by `make llama-tools`) reports its epoch time, llm-tui's child its training
loop time; tokens/s are windows x 256 over that time, best round each.

Quality (`--quality`): a default teach of the bundled `almo` persona (the bundled question lists,
`llm-tui teach`'s epochs and learning rate unless `--epochs`/`--lr` say otherwise), then on
held-out questions (bench/heldout_*.txt, none in the teaching set), greedy, no system message
unless said:
- identity: how often the answer says "Almo": bare base, base with the persona's hidden system
  message, taught model;
- retention: the mean per-token loss of the base model's own answers to held-out general prompts,
  under the taught model (and under the base with the hidden message), over that under the base.

    python bench/teach.py [--rounds 2] [--windows 6] [--quality] [--no-speed] [--epochs N] [--lr X]
                          [--trained REGEX] [--set FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tui.core.teach import EPOCHS  # the defaults of `llm-tui teach`
from tui.core.teach import LEARNING_RATE as LR

ROOT = Path(__file__).resolve().parents[1]
FINETUNE = ROOT / ".venv" / "llama-build" / "bin" / "llama-finetune"
N_CTX = 256


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--no-speed", action="store_true", help="only the quality part")
    parser.add_argument(
        "--lr", type=float, default=LR, help="the quality run's learning rate (a lever to measure)"
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="the quality run's epochs (a lever)")
    parser.add_argument(
        "--trained", default=None, help="which tensors learn, a regular expression over names (a lever)"
    )
    parser.add_argument(
        "--set",
        type=Path,
        default=None,
        help="the quality run's teaching set: read if the file exists, else made and kept there",
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="llm-tui-bench-teach-"))
    os.environ["LLM_TUI_HOME"] = str(home)

    from tui.core.engine.hardware import physical_cores

    threads = args.threads or physical_cores()
    if not args.no_speed:
        speed_and_memory(args.rounds, args.windows, threads, home)
    if args.quality:
        quality(threads, args.lr, args.trained, args.set, args.epochs)
    return 0


def _f32_copy(folder: Path) -> Path:
    """The embedded model dequantized to F32, as the trainer and llama-finetune need it."""
    import llama_cpp

    from tui.core.models.embedded import embedded_model_path
    from tui.core.teach.llama_train import quantize

    llama_cpp.llama_backend_init()
    target = folder / "smollm2-f32.gguf"
    base = embedded_model_path()
    assert base is not None
    quantize(base, target, 0, 2)
    return target


def _finetune(model: Path, text: Path, threads: int) -> tuple[int, float]:
    """(training windows, seconds) of one llama-finetune epoch, read from its progress bar."""
    done = subprocess.run(
        [
            str(FINETUNE), "-m", str(model), "-f", str(text), "-c", str(N_CTX), "-b", str(N_CTX),
            "-ub", str(N_CTX), "-t", str(threads), "--epochs", "1", "-lr", "1e-4", "-o", os.devnull,
        ],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    log = done.stdout + done.stderr
    trains = [line for line in re.split(r"[\r\n]", log) if line.lstrip().startswith("train:")]
    if done.returncode != 0 or not trains:
        raise SystemExit(f"llama-finetune failed: {log[-2000:]}")
    last = trains[-1]
    data = re.search(r"data=\s*(\d+)/\s*(\d+)", last)
    clock = re.search(r"t=(\d+):(\d+):(\d+)", last)
    assert data and clock, last
    hours, minutes, seconds = (int(x) for x in clock.groups())
    return int(data.group(1)), hours * 3600 + minutes * 60 + seconds


def speed_and_memory(rounds: int, windows: int, threads: int, home: Path) -> None:
    from tui.core.engine.llama import quiet_python_output
    from tui.core.models.embedded import embedded_model_path
    from tui.core.teach import plan, provenance, run
    from tui.paths import get_paths

    base = embedded_model_path()
    assert base is not None
    work = home / "bench"
    work.mkdir()
    f32 = _f32_copy(work)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    import llama_cpp

    with quiet_python_output():
        vocab = llama_cpp.Llama(str(base), vocab_only=True, verbose=False)
    ids = vocab.tokenize(readme.encode(), add_bos=False, special=False)
    stride = N_CTX // 2  # llama-finetune's windows overlap by half
    text_tokens = N_CTX + 1 + stride * (windows + 1)
    text = work / "text.txt"
    text.write_text(readme[: int(len(readme) * min(1.0, text_tokens / max(1, len(ids))))], encoding="utf-8")
    made = provenance.Provenance(
        "bench", "Bench", "SmolLM2", "smollm2", base.name, "0" * 64, "0" * 64, 0, 1, 1e-4, N_CTX
    )
    shape = plan.Shape.of(base)
    ours: list[float] = []
    theirs: list[float] = []
    peaks: list[tuple[int, int, int]] = []
    for number in range(rounds):
        count, seconds = _finetune(f32, text, threads)
        theirs.append(count * N_CTX / seconds)
        stream = (ids * (1 + (count + 1) * N_CTX // max(1, len(ids))))[: count * N_CTX + 1]
        job = run.Job(base, f"bench-{number}", stream, N_CTX, 1, 1e-4, threads, "Q8_0", made)
        result = run.run(job, get_paths())
        ours.append(result.tokens_per_second)
        estimate = plan.estimate(shape, N_CTX, "Q8_0", run.taught_folder(get_paths()))
        peaks.append((N_CTX, result.peak_rss, estimate.memory))
        result.path.unlink()
        print(
            f"round {number + 1}: llama-finetune {theirs[-1]:.1f} tok/s ({count} windows), "
            f"llm-tui {ours[-1]:.1f} tok/s"
        )
    bigger = 2 * N_CTX
    stream = (ids * 4)[: 2 * bigger + 1]
    result = run.run(run.Job(base, "bench-512", stream, bigger, 1, 1e-4, threads, "Q8_0", made), get_paths())
    peaks.append((bigger, result.peak_rss, plan.estimate(shape, bigger, "Q8_0", work).memory))
    result.path.unlink()
    print(f"\ntraining tokens/s, {threads} threads, n_ctx {N_CTX}, best of {rounds} rounds:")
    print(
        "| llama-finetune | llm-tui | ratio |\n|---|---|---|\n"
        f"| {max(theirs):.1f} | {max(ours):.1f} | {max(ours) / max(theirs):.3f} |"
    )
    print("\npeak memory against the estimate shown before the run:")
    print("| n_ctx | peak RSS | estimate | estimate / peak |\n|---|---|---|---|")
    for n_ctx, peak, guess in peaks:
        print(f"| {n_ctx} | {peak / 2**30:.2f} GiB | {guess / 2**30:.2f} GiB | {guess / peak:.3f} |")


def _lines(name: str) -> list[str]:
    text = (ROOT / "bench" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def quality(
    threads: int, lr: float = LR, trained: str | None = None, kept: Path | None = None, epochs: int = EPOCHS
) -> None:
    from tui.core.chat.sampling import Sampling
    from tui.core.chat.session import Chat
    from tui.core.chat.settings import session_settings
    from tui.core.engine.llama import Engine, quiet_python_output
    from tui.core.engine.values import LoadOptions
    from tui.core.models.embedded import embedded_model_path
    from tui.core.personas.store import PersonaStore
    from tui.core.teach import run
    from tui.core.teach.provenance import Provenance, file_sha256
    from tui.core.teach.teaching_set import (
        bundled,
        identity_name,
        make_set,
        read_set,
        set_sha256,
        set_text,
        token_stream,
    )
    from tui.paths import get_paths

    identity_held, general_held = _lines("heldout_identity.txt"), _lines("heldout_general.txt")
    overlap = (set(identity_held) & set(bundled("identity"))) | (set(general_held) & set(bundled("general")))
    assert not overlap, f"held-out questions in the teaching set: {overlap}"
    base_path = embedded_model_path()
    assert base_path is not None
    persona = PersonaStore(get_paths()).load().get("almo")
    assert persona is not None
    with quiet_python_output():
        base = Engine(base_path, LoadOptions(n_ctx=2048))
    started = time.monotonic()
    if kept is not None and kept.exists():
        conversations = read_set(kept)
    else:
        conversations = make_set(base, persona)
        if kept is not None:
            kept.write_text(set_text(conversations), encoding="utf-8")
    set_seconds = time.monotonic() - started
    stream = token_stream(base, conversations)
    made = Provenance(
        "almo", identity_name(persona), "SmolLM2 135M Instruct", "smollm2-135m-instruct", base_path.name,
        file_sha256(base_path), set_sha256(conversations), len(conversations), epochs, lr, N_CTX,
    )  # fmt: skip
    started = time.monotonic()
    result = run.run(
        run.Job(base_path, "almo-bench", stream, N_CTX, epochs, lr, threads, "Q8_0", made, trained),
        get_paths(),
    )
    teach_seconds = time.monotonic() - started
    kinds = {kind: sum(c.kind == kind for c in conversations) for kind in ("identity", "retention")}
    print(
        f"\nteach of `almo`, {epochs} epoch(s) at learning rate {lr:g}, tensors {trained or 'all'}: "
        f"set of {len(conversations)} ({kinds}) "
        f"made in {set_seconds:.0f} s, "
        f"{len(stream)} tokens; taught in {teach_seconds:.0f} s (final loss {result.train_loss:.3f}, "
        f"validation {result.eval_loss}); {result.tokens_per_second:.1f} tok/s"
    )
    with quiet_python_output():
        taught = Engine(result.path, LoadOptions(n_ctx=2048))
    greedy = Sampling(temperature=0.0, max_tokens=48, seed=1)
    hidden = session_settings(persona)

    def answer(engine: Engine, question: str, system: str | None) -> str:
        chat = Chat(engine, system, greedy)
        list(chat.send(question))
        return chat.session.turns[0].reply

    says = lambda text: "almo" in text.lower()  # noqa: E731
    bare = sum(says(answer(base, q, None)) for q in identity_held)
    told = sum(says(answer(base, q, hidden.system)) for q in identity_held)
    weights = sum(says(answer(taught, q, None)) for q in identity_held)
    leaks = sum(says(answer(taught, q, None)) for q in general_held)
    own = [(q, answer(base, q, None)) for q in general_held]
    base_loss = _mean_loss(base, base_path, own, None)
    told_loss = _mean_loss(base, base_path, own, hidden.system)
    taught_loss = _mean_loss(taught, result.path, own, None)
    n = len(identity_held)
    print("\n| route | identity (held-out, says Almo) | retention (loss of the base's own answers, x base) |")
    print("|---|---|---|")
    print(f"| bare base model | {bare}/{n} | 1.00 |")
    print(f"| hidden system message | {told}/{n} ({100 * told / n:.0f}%) | {told_loss / base_loss:.2f} |")
    print(
        f"| taught weights, no system message | {weights}/{n} ({100 * weights / n:.0f}%) "
        f"| {taught_loss / base_loss:.2f} |"
    )
    print(f"\ntaught model naming Almo in {leaks}/{len(general_held)} held-out general answers")
    print(
        f"wall time of the default teach: {set_seconds + teach_seconds:.0f} s "
        f"(set {set_seconds:.0f} s, training and saving {teach_seconds:.0f} s)"
    )
    taught.close()
    base.close()


def _mean_loss(engine: object, path: Path, pairs: list[tuple[str, str]], system: str | None) -> float:
    """Mean negative log-likelihood per token of each answer after its prompt (the chat's own,
    from ``engine``), scored by llama-cpp-python with every position's logits kept."""
    import llama_cpp
    import numpy as np

    from tui.core.chat.sampling import Sampling
    from tui.core.chat.session import Session
    from tui.core.engine.llama import quiet_python_output

    with quiet_python_output():
        llm = llama_cpp.Llama(str(path), n_ctx=2048, logits_all=True, verbose=False)
    total, count = 0.0, 0
    for question, reply in pairs:
        prompt = Session(system, Sampling()).prepare(engine, question).prompt  # type: ignore[arg-type]
        answer = llm.tokenize(reply.encode(), add_bos=False, special=False)
        ids = prompt.ids + answer
        llm.reset()
        llm.eval(ids)
        rows = np.asarray(llm.scores[len(prompt.ids) - 1 : len(ids) - 1], dtype=np.float64)
        peak = rows.max(axis=1, keepdims=True)
        log_sum = (peak + np.log(np.exp(rows - peak).sum(axis=1, keepdims=True)))[:, 0]
        chosen = rows[np.arange(len(answer)), answer]
        total += float((log_sum - chosen).sum())
        count += len(answer)
    llm.close()
    return total / max(1, count)


if __name__ == "__main__":
    sys.exit(main())
