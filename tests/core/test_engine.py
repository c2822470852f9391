"""The engine against the real SmolLM2: exact prompts, streaming, stats, cancelling, no log leaks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import llama_cpp
import pytest

from tui.core.chat.sampling import Sampling
from tui.core.engine.hardware import physical_cores
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions, Piece, ReplyStats
from tui.core.prompt.messages import Message

SMOLLM_DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
GREEDY = Sampling(temperature=0.0, max_tokens=24, seed=7)


def _run(engine: Engine, prompt, sampling=GREEDY, cancel=None) -> tuple[str, list[int], ReplyStats]:  # type: ignore[no-untyped-def]
    text, ids, stats = [], [], None
    for event in engine.generate(prompt, sampling, cancel):
        if isinstance(event, Piece):
            text.append(event.text)
            ids.append(event.token)
        else:
            stats = event
    assert stats is not None
    return "".join(text), ids, stats


def test_prompt_is_the_models_own_template_and_tokens(engine: Engine) -> None:
    prompt = engine.build_prompt([Message("user", "Who are you?")])
    assert SMOLLM_DEFAULT in prompt.text
    assert prompt.ids == engine.tokenize(prompt.text)
    assert b"".join(t.piece for t in prompt.tokens) == prompt.text.encode()
    first = prompt.tokens[0]
    assert first.text == "<|im_start|>" and first.special
    assert [t.text for t in prompt.tokens].count("<|im_start|>") == 3  # no BOS added on top
    (span,) = prompt.spans
    assert span is not None and prompt.text[span.start : span.end] == "Who are you?"
    covered = b"".join(t.piece for t in prompt.tokens[span.first_token : span.end_token])
    assert b"Who are you?" in covered


def test_the_engine_generates_from_exactly_the_inspected_tokens(engine: Engine, model_path: Path) -> None:
    """A bare llama-cpp-python loop fed prompt.ids produces the same greedy tokens.

    Without a repeat penalty: the engine uses llama.cpp's sampler chain (llama-server's semantics),
    llama-cpp-python its own Python-side penalty, and the two differ there by design.
    """
    engine.reset()
    prompt = engine.build_prompt([Message("user", "Name three colours.")])
    _, ours, _ = _run(engine, prompt, replace(GREEDY, repeat_penalty=1.0))
    bare = llama_cpp.Llama(  # with flash attention, as the engine runs (llama.cpp's "auto", on for a CPU)
        str(model_path), n_ctx=2048, n_threads=physical_cores(), flash_attn=True, verbose=True
    )
    theirs = []
    for token in bare.generate(prompt.ids, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0):
        if llama_cpp.llama_vocab_is_eog(bare._model.vocab, token) or len(theirs) == len(ours):
            break
        theirs.append(token)
    bare.close()
    assert ours == theirs


def test_same_seed_same_reply_regardless_of_earlier_seeds(engine: Engine) -> None:
    """The seed is explicit on every call: an earlier call with another seed changes nothing.

    Compared from the same (empty) cache: evaluating a prompt in one batch or reusing a cached
    prefix can differ in the last bits of the logits, which sampling at temperature 1 may notice.
    """
    prompt = engine.build_prompt([Message("user", "Write a short poem about rain.")])
    warm = Sampling(temperature=1.0, max_tokens=20, seed=1234)
    engine.reset()
    first, _, _ = _run(engine, prompt, warm)
    engine.reset()
    _run(engine, prompt, Sampling(temperature=1.0, max_tokens=20, seed=99))
    engine.reset()
    again, _, _ = _run(engine, prompt, warm)
    engine.reset()
    other, _, _ = _run(engine, prompt, Sampling(temperature=1.0, max_tokens=20, seed=5678))
    assert first == again
    assert first != other


def test_stats_report_the_cached_prefix(engine: Engine) -> None:
    engine.reset()
    messages = [Message("user", "Hello there.")]
    prompt = engine.build_prompt(messages)
    reply, _, stats = _run(engine, prompt)
    assert stats.prompt_tokens == len(prompt) and stats.reused_tokens == 0
    assert stats.completion_tokens > 0 and stats.stop in ("end_of_turn", "max_tokens")
    assert stats.time_to_first_token > 0 and stats.tokens_per_second > 0
    follow = engine.build_prompt(messages + [Message("assistant", reply), Message("user", "And?")])
    _, _, second = _run(engine, follow)
    assert second.reused_tokens >= len(prompt) - 1
    assert second.reused_tokens < second.prompt_tokens


def test_max_tokens_stops_the_reply(engine: Engine) -> None:
    prompt = engine.build_prompt([Message("user", "Count from one to one hundred in words.")])
    _, ids, stats = _run(engine, prompt, Sampling(temperature=0.0, max_tokens=5, seed=1))
    assert len(ids) == 5 and stats.completion_tokens == 5 and stats.stop == "max_tokens"


def test_cancel_mid_reply_then_continue(engine: Engine) -> None:
    engine.reset()
    prompt = engine.build_prompt([Message("user", "Tell me a long story about a dragon.")])
    expected, _, _ = _run(engine, prompt, Sampling(temperature=0.0, max_tokens=30, seed=3))
    cancel = threading.Event()
    received = 0
    stats = None
    for event in engine.generate(prompt, Sampling(temperature=0.0, max_tokens=200, seed=3), cancel):
        if isinstance(event, Piece):
            received += 1
            if received == 4:
                cancel.set()
        else:
            stats = event
    assert stats is not None and stats.stop == "cancelled" and stats.completion_tokens == 4
    # Usable straight away: a full reply follows.
    after, _, after_stats = _run(engine, prompt, Sampling(temperature=0.0, max_tokens=30, seed=3))
    assert after and after_stats.stop == "max_tokens" and after_stats.completion_tokens == 30
    # And nothing was corrupted: from an empty cache the reply is exactly the one before.
    engine.reset()
    again, _, _ = _run(engine, prompt, Sampling(temperature=0.0, max_tokens=30, seed=3))
    assert again == expected


def test_cancel_during_prompt_evaluation_aborts_llama_decode(model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=4096))
    long_text = " ".join(f"word{i}" for i in range(550))
    prompt = engine.build_prompt([Message("user", long_text)])
    assert len(prompt) > 2000
    cancel = threading.Event()
    cancel.set()  # already set: llama.cpp's abort callback must stop the evaluation itself
    _, ids, stats = _run(engine, prompt, GREEDY, cancel)
    assert ids == [] and stats.stop == "cancelled"
    assert engine.cached_tokens < len(prompt)  # the prompt was not fully evaluated
    short = engine.build_prompt([Message("user", "Hi")])
    reply, _, ok = _run(engine, short)
    assert reply and ok.stop in ("end_of_turn", "max_tokens")
    engine.close()


def test_reset_empties_the_cache(engine: Engine) -> None:
    _run(engine, engine.build_prompt([Message("user", "Hi")]))
    assert engine.cached_tokens > 0
    engine.reset()
    assert engine.cached_tokens == 0
    _, _, stats = _run(engine, engine.build_prompt([Message("user", "Hi")]))
    assert stats.reused_tokens == 0


def test_defaults_fit_the_machine(engine: Engine) -> None:
    info = engine.info
    assert info.n_threads == physical_cores()
    assert info.n_ctx == 2048 and info.n_ctx_train == 8192
    assert info.architecture == "llama" and info.n_layers == 30
    if llama_cpp.llama_supports_gpu_offload():
        assert info.gpu_layers > 0 and info.device.startswith("GPU")
    else:
        assert info.gpu_layers == 0 and info.device == "CPU"
    assert info.template_name == "the model's own chat template"


def test_default_context_is_capped_by_the_trained_length(model_path: Path) -> None:
    engine = Engine(model_path)
    assert engine.info.n_ctx == 4096  # min(trained 8192, default 4096)
    engine.close()


def test_llama_cpp_never_writes_to_the_terminal(model_path: Path) -> None:
    """Load and generate in a process whose Python-level streams are captured (as Textual does):
    nothing may reach file descriptors 1 and 2."""
    script = textwrap.dedent(
        f"""
        import io, sys
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        from pathlib import Path
        from tui.core.engine.llama import Engine, llama_log
        from tui.core.prompt.messages import Message
        from tui.core.chat.sampling import Sampling
        engine = Engine(Path({str(model_path)!r}))
        prompt = engine.build_prompt([Message("user", "Hi")])
        list(engine.generate(prompt, Sampling(max_tokens=8, seed=1)))
        engine.close()
        assert any("llama" in line for line in llama_log()), "the log was not captured"
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_missing_and_corrupt_model_files_are_clear_errors(tmp_path: Path) -> None:
    from tui.core.engine.values import EngineError

    with pytest.raises(EngineError, match="model file not found"):
        Engine(tmp_path / "nope.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf at all")
    with pytest.raises(EngineError, match="not a GGUF file"):
        Engine(bad)


def test_token_probabilities_are_real(engine: Engine) -> None:
    """At temperature 0 (no repeat penalty) the produced token is the most likely one, and the
    probabilities of the runners-up add up to at most 1."""
    engine.reset()
    prompt = engine.build_prompt([Message("user", "What is the capital of France?")])
    greedy = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=12, seed=1)
    pieces = [e for e in engine.generate(prompt, greedy, confidence=True) if isinstance(e, Piece)]
    assert pieces and all(p.confidence is not None for p in pieces)
    for piece in pieces:
        sure = piece.confidence
        assert sure is not None
        assert 0.0 < sure.probability <= 1.0
        assert sure.alternatives[0].token == piece.token
        assert sure.alternatives[0].probability == pytest.approx(sure.probability)
        assert sum(a.probability for a in sure.alternatives) <= 1.0 + 1e-6
        probs = [a.probability for a in sure.alternatives]
        assert probs == sorted(probs, reverse=True)
    engine.reset()
    plain = [e for e in engine.generate(prompt, greedy) if isinstance(e, Piece)]
    assert [p.token for p in plain] == [p.token for p in pieces]  # asking costs nothing in output
    assert all(p.confidence is None for p in plain)
