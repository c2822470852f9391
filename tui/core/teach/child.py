"""The teaching run itself, in a process of its own: ``python -m tui.core.teach.child JOB.json``.

It reports on stdout, one JSON object per line (see `tui.core.teach.run` for the reader), and
writes only inside the job's work folder. An abort inside llama.cpp ends this process alone.

Steps: dequantize the base model to F32 (quantized weights cannot be trained), train on the token
windows, save, copy the trained tensors into the F32 copy of the base file (llama.cpp's own save
drops the chat template, the licence and other keys), quantize that with the provenance added.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

QUANT_TYPES = {"Q8_0": 7, "F16": 1, "F32": 0, "Q4_0": 2, "Q4_1": 3, "Q5_1": 9}
"""Types the result may be saved as (llama.cpp's ftype numbers)."""


def say(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def peak_rss() -> int:
    """This process's peak resident memory, bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def end_with_parent(parent: int) -> None:
    """Linux: die with the app (killed -9 too) rather than train on for minutes unseen."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        raise SystemExit("error: the app that started this run is gone")


PR_SET_PDEATHSIG = 1


def main(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    end_with_parent(int(job["parent"]))
    work = Path(job["work"])
    n_ctx, threads = int(job["n_ctx"]), int(job["threads"])
    windows: list[list[int]] = job["windows"]
    split = int(job["split"])

    import llama_cpp

    from tui.core.teach import llama_train as lt

    llama_cpp.llama_backend_init()  # llama.cpp's log goes to stderr: the parent keeps it in a file
    libs = lt.Libraries()
    f32 = work / "base-f32.gguf"
    say(stage="dequantize")
    lt.quantize(Path(job["base"]), f32, QUANT_TYPES["F32"], threads)
    trainer = lt.Trainer(libs, f32, n_ctx, threads)
    vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(trainer.model))
    for window in windows:  # llama.cpp reads an id past the vocabulary without a word
        if len(window) != n_ctx + 1 or not all(0 <= token < vocab for token in window):
            raise SystemExit(f"error: a window is not {n_ctx + 1} token ids of this model's {vocab}")
    dataset = lt.Dataset(libs, windows, n_ctx)
    pattern = job.get("trained")  # a regular expression over tensor names; absent: every tensor
    chosen = re.compile(pattern) if pattern else None
    trainer.start(float(job["lr"]), (lambda name: bool(chosen.search(name))) if chosen else None)
    epochs = int(job["epochs"])
    started = time.monotonic()
    trained_tokens = 0
    losses: tuple[float, float | None] = (0.0, None)
    for epoch in range(epochs):
        epoch_start = time.monotonic()

        def step(
            train: bool, done: int, total: int, loss: float, epoch: int = epoch, t0: float = epoch_start
        ) -> None:
            if not train:
                return
            seconds = time.monotonic() - t0
            rate = done * n_ctx / seconds if seconds > 0 else 0.0
            say(
                stage="train",
                epoch=epoch + 1,
                epochs=epochs,
                step=done,
                steps=total,
                loss=loss,
                tokens_per_second=rate,
            )

        losses = trainer.epoch(dataset, split, step)
        trained_tokens += split * n_ctx
        say(
            stage="epoch",
            epoch=epoch + 1,
            epochs=epochs,
            train_loss=losses[0],
            eval_loss=losses[1],
            peak_rss=peak_rss(),
        )
    seconds = time.monotonic() - started
    dataset.free()
    say(stage="save", train_seconds=seconds, trained_tokens=trained_tokens, peak_rss=peak_rss())
    saved = work / "trained-raw.gguf"
    trainer.save(saved)
    trainer.close()
    copy_tensors(saved, f32)
    saved.unlink()
    metadata: dict[str, str | int | float] = dict(job["metadata"])
    metadata["llm_tui.taught.final_train_loss"] = round(losses[0], 4)
    if losses[1] is not None:
        metadata["llm_tui.taught.final_eval_loss"] = round(losses[1], 4)
    result = work / "result.gguf"
    lt.quantize(f32, result, QUANT_TYPES[job["quant"]], threads, metadata)
    f32.unlink()
    say(
        stage="done",
        path=str(result),
        train_loss=losses[0],
        eval_loss=losses[1],
        peak_rss=peak_rss(),
        train_seconds=seconds,
        trained_tokens=trained_tokens,
    )
    return 0


CHUNK = 8 << 20


def copy_tensors(trained: Path, target: Path) -> None:
    """Write every tensor of ``trained`` into ``target`` at its own offset: same names, types and
    sizes (both F32), so ``target`` keeps all its keys and gains the trained weights."""
    from tui.core.models.gguf import tensor_layout

    source, dest = tensor_layout(trained), tensor_layout(target)
    with trained.open("rb") as src, target.open("r+b") as out:
        for name, into in dest.items():
            come = source.get(name)
            if come is None or (come.kind, come.elements) != (into.kind, into.elements) or into.kind != 0:
                raise RuntimeError(f"tensor {name} differs between the trained and the base file")
            src.seek(come.offset)
            out.seek(into.offset)
            left = into.elements * 4
            while left:
                chunk = src.read(min(CHUNK, left))
                if not chunk:
                    raise RuntimeError(f"tensor {name} is cut short in the trained file")
                out.write(chunk)
                left -= len(chunk)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
