"""Load settings: llama.cpp's defaults, from flags, state.toml and config.toml [engine], read back
from the real context, in `llm-tui info`, and refused with the file, key and range when wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.core.engine.cpu_load import FreeCores, busy_ticks, free_cores, others_cores, own_ticks
from tui.core.engine.llama import Engine, quiet_python_output
from tui.core.engine.values import EngineError, LoadOptions
from tui.core.settings.engine import load_options
from tui.core.settings.state import AppState, load_state, save_state
from tui.paths import get_paths


def _config(text: str) -> None:
    path = get_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_llama_cpp_defaults_reach_the_context(model_path: Path) -> None:
    """Left alone, the model runs as llama.cpp's own programs run it: flash attention resolved by
    llama.cpp (on, for this CPU), batch 2048, micro-batch 512, prompt threads as decode threads."""
    with quiet_python_output():
        engine = Engine(model_path, LoadOptions(n_ctx=1024))
    runtime = engine.info.runtime
    assert runtime is not None
    assert runtime.flash_attn == "auto (on)"
    assert (runtime.n_batch, runtime.n_ubatch) == (1024, 512)  # llama.cpp caps the batch at the context
    assert runtime.n_threads_batch == engine.threads_now and runtime.threads_auto
    assert (runtime.cache_type_k, runtime.cache_type_v, runtime.mmap, runtime.repack) == (
        "f16",
        "f16",
        True,
        True,
    )
    engine.close()


def test_chosen_settings_reach_the_context_and_replies_still_come(model_path: Path) -> None:
    options = LoadOptions(
        n_ctx=1024, n_threads=1, n_threads_batch=2, flash_attn="off", n_batch=256, n_ubatch=64,
        cache_type_k="q8_0", mmap=False, repack=False,
    )  # fmt: skip
    with quiet_python_output():
        engine = Engine(model_path, options)
    runtime = engine.info.runtime
    assert runtime is not None and not runtime.threads_auto
    assert (runtime.flash_attn, runtime.n_batch, runtime.n_ubatch) == ("off", 256, 64)
    assert (runtime.n_threads_batch, engine.threads_now) == (2, 1)
    assert (runtime.cache_type_k, runtime.mmap, runtime.repack) == ("q8_0", False, False)
    from tui.core.chat.sampling import Sampling
    from tui.core.prompt.messages import Message

    prompt = engine.build_prompt([Message("user", "Say hello.")])
    text = "".join(
        e.text
        for e in engine.generate(prompt, Sampling(temperature=0, max_tokens=8, seed=1))
        if hasattr(e, "text")
    )
    assert text.strip()
    engine.close()


def test_quantized_v_cache_without_flash_attention_is_llama_cpps_clear_no(model_path: Path) -> None:
    with pytest.raises(EngineError, match="could not load"), quiet_python_output():
        Engine(model_path, LoadOptions(n_ctx=512, flash_attn="off", cache_type_v="q4_0"))


def test_flags_over_saved_over_config(llm_home: Path) -> None:
    _config('[engine]\nflash_attn = "off"\nn_batch = 512\nn_ubatch = 128\n')
    state = AppState()
    state.models["smollm2"] = {"n_batch": 1024, "mmap": False}
    save_state(get_paths(), state)
    options, problems = load_options(LoadOptions(n_ubatch=256), "smollm2", get_paths())
    assert problems == []
    assert (options.flash_attn, options.n_batch, options.n_ubatch, options.mmap) == ("off", 1024, 256, False)
    other, _ = load_options(LoadOptions(), "another-model", get_paths())
    assert (other.n_batch, other.mmap, other.repack) == (512, None, None)


def test_bad_engine_settings_are_named_and_skipped(llm_home: Path) -> None:
    _config(
        '[engine]\nflash_attn = "yes"\nn_batch = 8\nrepack = 1\nflash_atn = "on"\ncache_type_k = "q8_0"\n'
    )
    options, problems = load_options(LoadOptions(), None, get_paths())
    assert options == LoadOptions(cache_type_k="q8_0")
    text = "\n".join(problems)
    config = str(get_paths().config_file)
    assert text.count(config) == 4
    assert '`flash_attn` must be one of "auto", "on", "off", not \'yes\'' in text
    assert "`n_batch` must be a whole number from 32 to 16777216 tokens, not 8" in text
    assert "`repack` must be true or false, not 1" in text
    assert "unknown setting `flash_atn`" in text and "did you mean `flash_attn`?" in text


def test_bad_saved_settings_are_dropped_with_a_reason(llm_home: Path) -> None:
    path = get_paths().config / "state.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[models.smollm2]\nflash_attn = "sometimes"\nn_ubatch = 256\n')
    state = load_state(get_paths())
    assert state.models["smollm2"] == {"n_ubatch": 256}
    assert state.problem is not None and "`flash_attn` ignored" in str(state.problem)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_info_shows_the_settings_llama_cpp_runs_with(model_path: Path, llm_home: Path) -> None:
    _config("[engine]\nn_ubatch = 128\n")
    done = _cli("--model", str(model_path), "--flash-attn", "off", "info")
    assert done.returncode == 0, done.stderr
    assert "flash attention: off" in done.stdout
    assert "batch / micro-batch: 2048 / 128 tokens" in done.stdout  # the flag and the file, merged
    assert "KV cache: K f16, V f16" in done.stdout
    assert "threads: " in done.stdout and "(auto: the cores other work leaves free)" in done.stdout


def test_flags_out_of_range_get_the_one_clear_error() -> None:
    for args, said in (
        (("--batch-size", "8"), "--batch-size/-b: must be a whole number from 32 to 16777216 tokens, not 8"),
        (("--threads-batch", "0"), "--threads-batch/-tb: must be a whole number from 1 to 1024, not 0"),
        (("--flash-attn", "maybe"), "--flash-attn/-fa: invalid choice: 'maybe'"),
        (("--cache-type-v", "q3"), "--cache-type-v/-ctv: invalid choice: 'q3'"),
    ):
        done = _cli(*args, "info")
        assert done.returncode == 2 and said in done.stderr, done.stderr


def test_the_cli_and_the_core_accept_the_same_cache_types() -> None:
    from tui.cli.parser import KV_CACHE_TYPES as flags
    from tui.core.settings.limits import KV_CACHE_TYPES

    assert flags == KV_CACHE_TYPES


# --- threads that follow the free cores -------------------------------------------------------


def test_proc_stat_is_read_for_work_on_the_cpus_we_may_use() -> None:
    stat = "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 10 1 5 100 7 1 1 0 0 0\ncpu1 20 0 10 50 0 0 0 2 0 0\nintr 1\n"
    assert busy_ticks(stat, None) == (10 + 1 + 5 + 1 + 1) + (20 + 10 + 2)
    assert busy_ticks(stat, {"cpu1"}) == 32
    assert busy_ticks("cpu0 x y\n", None) is None
    assert own_ticks("123 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 40 2 0 0") == 42
    assert own_ticks("garbage") is None


def test_free_cores_counts_a_core_taken_once_others_use_half_of_it() -> None:
    assert others_cores(busy=300, own=100, seconds=1.0, hz=100) == 2.0
    assert others_cores(busy=50, own=80, seconds=1.0, hz=100) == 0.0  # never negative
    assert [free_cores(2, x) for x in (0.0, 0.3, 0.5, 1.0, 1.6, 5.0)] == [2, 2, 1, 1, 1, 1]
    assert [free_cores(8, x) for x in (0.4, 1.5, 3.2)] == [8, 6, 5]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_a_busy_core_takes_a_thread_away() -> None:
    """A real busy loop on one of our CPUs: within a few looks the automatic count drops to one."""
    cpu = max(os.sched_getaffinity(0))
    hog = subprocess.Popen(["taskset", "-c", str(cpu), sys.executable, "-c", "while True: pass"])
    watcher = FreeCores(2)
    try:
        deadline = time.monotonic() + 10
        while watcher.threads != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert watcher.threads == 1 and watcher.others >= 0.5
    finally:
        hog.kill()
        watcher.close()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_with_a_core_busy_the_engine_decodes_on_one_thread_and_evaluates_prompts_on_all(
    model_path: Path,
) -> None:
    """Read back from llama.cpp: decode threads follow the free cores while the reply runs, prompt
    threads stay at the physical cores; a thread count that was set is never changed."""
    from tui.core.chat.sampling import Sampling
    from tui.core.prompt.messages import Message

    cpu = max(os.sched_getaffinity(0))
    hog = subprocess.Popen(["taskset", "-c", str(cpu), sys.executable, "-c", "while True: pass"])
    try:
        with quiet_python_output():
            auto = Engine(model_path, LoadOptions(n_ctx=512))
            fixed = Engine(model_path, LoadOptions(n_ctx=512, n_threads=2))
        assert auto._free is not None
        deadline = time.monotonic() + 10
        while auto._free.threads != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        prompt = auto.build_prompt([Message("user", "Hi")])
        for engine in (auto, fixed):
            list(engine.generate(prompt, Sampling(temperature=0, max_tokens=2, seed=1)))
        import llama_cpp

        assert (auto.threads_now, llama_cpp.llama_n_threads_batch(auto._llm._ctx.ctx)) == (
            1,
            auto._free.cores,
        )
        assert (fixed.threads_now, llama_cpp.llama_n_threads_batch(fixed._llm._ctx.ctx)) == (2, 2)
        auto.close()
        fixed.close()
    finally:
        hog.kill()


class _TwoFreeCores:
    """A machine with two cores and nothing else on them, whatever this one is doing now."""

    def __init__(self, cores: int) -> None:
        self.cores = self.threads = 2

    def close(self) -> None:
        pass


def test_a_painting_screen_borrows_one_decode_thread_until_it_is_done(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read back from llama.cpp token by token: lent from the next token on, back after the paint;
    a fixed thread count lends nothing (the screen waits its turn instead), nor does a new reply."""
    from tui.core.chat.sampling import Sampling
    from tui.core.engine import llama
    from tui.core.engine.values import Piece
    from tui.core.prompt.messages import Message

    monkeypatch.setattr(llama, "physical_cores", lambda: 2)
    monkeypatch.setattr(llama, "FreeCores", _TwoFreeCores)
    with quiet_python_output():
        auto = Engine(model_path, LoadOptions(n_ctx=512))
        fixed = Engine(model_path, LoadOptions(n_ctx=512, n_threads=2))
    prompt = auto.build_prompt([Message("user", "Count to twenty.")])
    greedy = Sampling(temperature=0, max_tokens=6, seed=1, repeat_penalty=1.0)
    seen = []
    for event in auto.generate(prompt, greedy):
        if isinstance(event, Piece):
            seen.append(auto.threads_now)  # the threads that decoded the token before this one
            if len(seen) == 2:
                assert auto.lend_core()
            if len(seen) == 4:
                auto.take_core_back()
    assert seen == [2, 2, 1, 1, 2, 2]
    for event in auto.generate(prompt, greedy):
        if isinstance(event, Piece):
            assert auto.lend_core()  # lent to the end: the reply ends without taking it back
    after = [auto.threads_now for e in auto.generate(prompt, greedy) if isinstance(e, Piece)]
    assert after == [2] * 6  # the next reply starts with every core
    assert not fixed.lend_core()
    auto.close()
    fixed.close()
