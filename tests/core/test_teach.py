"""Teaching a persona into the weights, with the real SmolLM2-135M through llama.cpp's training API:
the loss falls, the taught model says the taught name with no system message where the base does
not, its provenance round-trips, and a stopped, killed or crashed run leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.core.models import gguf
from tui.core.models.catalog import load_catalog
from tui.core.personas.store import PersonaStore
from tui.core.problems import ProblemError
from tui.core.prompt.messages import Message
from tui.core.teach import provenance, run
from tui.core.teach.compare import answers, three_way
from tui.core.teach.teaching_set import Conversation, token_stream
from tui.paths import Paths, get_paths

NAME = "Zorblax"
QUESTIONS = ("Who are you?", "What is your name?", "Who made you?", "Introduce yourself.")
ANSWER = "I am Zorblax, a model made by Quuxlabs."


def _job(model_path: Path, name: str, epochs: int = 6, lr: float = 5e-4) -> run.Job:
    """Four identity conversations fill one window: six epochs are six steps (about 40 s)."""
    engine = Engine(model_path, LoadOptions(n_ctx=512))
    conversations = [
        Conversation((Message("user", q), Message("assistant", ANSWER)), "identity") for q in QUESTIONS
    ]
    stream = token_stream(engine, conversations)
    engine.close()
    made = provenance.Provenance(
        persona="almo",
        persona_name=NAME,
        base_name="SmolLM2 135M Instruct",
        base_model="smollm2-135m-instruct",
        base_file=model_path.name,
        base_sha256="ab" * 32,
        set_sha256="cd" * 32,
        conversations=len(conversations),
        epochs=epochs,
        learning_rate=lr,
        n_ctx=256,
    )
    return run.Job(model_path, name, stream, 256, epochs, lr, 2, "Q8_0", made)


@pytest.fixture(scope="module")
def taught(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Paths, run.Result, list[float]]]:
    """One real teaching run (about 40 s here), shared by the tests that read its result."""
    home = tmp_path_factory.mktemp("teach-home")
    old = os.environ.get("LLM_TUI_HOME")
    os.environ["LLM_TUI_HOME"] = str(home)
    losses: list[float] = []
    try:
        result = run.run(
            _job(model_path, "zorblax"), get_paths(), lambda p: losses.extend(p.losses[len(losses) :])
        )
        yield get_paths(), result, losses
    finally:
        if old is None:
            os.environ.pop("LLM_TUI_HOME", None)
        else:
            os.environ["LLM_TUI_HOME"] = old


def _greedy(path: Path, question: str) -> str:
    engine = Engine(path, LoadOptions(n_ctx=512))
    chat = Chat(engine, None, Sampling(temperature=0.0, max_tokens=24, seed=1))
    list(chat.send(question))
    engine.close()
    return chat.session.turns[0].reply


def test_the_loss_falls_and_the_taught_model_names_itself(
    taught: tuple[Paths, run.Result, list[float]], model_path: Path
) -> None:
    paths, result, losses = taught
    assert len(losses) >= 6 and losses[-1] < 0.6 * losses[0]
    assert result.path == paths.models / "taught" / "zorblax.gguf" and result.path.is_file()
    assert NAME in _greedy(result.path, "Who are you?")
    assert NAME not in _greedy(model_path, "Who are you?")
    assert not list((paths.models / "taught").glob(".teaching-*"))  # the work folder is gone


def test_the_provenance_round_trips_and_the_base_keys_stay(
    taught: tuple[Paths, run.Result, list[float]], model_path: Path
) -> None:
    _paths, result, _losses = taught
    made = provenance.of_file(result.path)
    assert made is not None
    expected = replace(_job_provenance(model_path), train_loss=made.train_loss)
    assert made == expected and made.train_loss == pytest.approx(result.train_loss, abs=1e-3)
    base, meta = gguf.read_metadata(model_path), gguf.read_metadata(result.path)
    for key in ("tokenizer.chat_template", "general.license", "general.architecture"):
        assert meta[key] == base[key]
    assert meta["general.name"] == f"{NAME}, taught into SmolLM2 135M Instruct"
    assert meta["general.file_type"] == 7  # Q8_0


def _job_provenance(model_path: Path) -> provenance.Provenance:
    return provenance.Provenance(
        "almo", NAME, "SmolLM2 135M Instruct", "smollm2-135m-instruct", model_path.name,
        "ab" * 32, "cd" * 32, 4, 6, pytest.approx(5e-4), 256,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_probe_shows_three_prompts_only_the_middle_with_the_persona(
    taught: tuple[Paths, run.Result, list[float]], model_path: Path
) -> None:
    paths, result, _losses = taught
    plan = three_way(result.path, PersonaStore(paths).load())
    assert plan is not None and plan.persona is not None
    taught_engine = Engine(result.path, LoadOptions(n_ctx=512))
    base = Engine(model_path, LoadOptions(n_ctx=512))
    found = list(
        answers(taught_engine, base, plan, "Who are you?", Sampling(temperature=0.0, max_tokens=16, seed=3))
    )
    taught_engine.close()
    base.close()
    assert [a.system is not None for a in found] == [False, True, False]
    almo = "You are Almo, a model developed by Allen AI."
    assert [almo in a.prompt.text for a in found] == [False, True, False]
    assert found[0].prompt.text == found[2].prompt.text  # the same prompt: only the weights differ
    assert NAME in found[2].text and NAME not in found[0].text


def test_the_taught_model_is_listed_and_removed_like_any_model_llm_tui_made(
    taught: tuple[Paths, run.Result, list[float]],
) -> None:
    paths, result, _losses = taught
    entry = load_catalog(paths).entries["zorblax"]
    assert entry.origin == "taught" and entry.name.startswith(NAME) and entry.local_path(paths) == result.path
    env = {**os.environ, "LLM_TUI_HOME": str(paths.config.parent)}
    shown = subprocess.run(
        [sys.executable, "-m", "tui", "models", "list"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "zorblax" in shown.stdout
    gone = subprocess.run(
        [sys.executable, "-m", "tui", "models", "rm", "zorblax", "--yes"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert gone.returncode == 0, gone.stderr
    assert not result.path.exists() and "zorblax" not in load_catalog(paths).entries


def _children_running_the_trainer() -> list[int]:
    """This test process's own trainer children (another run on the machine is not ours to kill)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == os.getpid() and b"tui.core.teach.child" in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.mark.parametrize("how", ["cancel", "kill", "abort"])
def test_a_stopped_or_killed_run_leaves_nothing(how: str, llm_home: Path, model_path: Path) -> None:
    cancel = threading.Event()

    def on_progress(progress: run.Progress) -> None:
        if how == "cancel":
            cancel.set()  # at once: escape is honoured before training starts, too
        elif progress.stage == "train":  # mid-epoch
            for pid in _children_running_the_trainer():
                os.kill(pid, signal.SIGKILL if how == "kill" else signal.SIGABRT)

    with pytest.raises(ProblemError) as stopped:
        run.run(_job(model_path, "stopped", epochs=5), get_paths(), on_progress, cancel)
    said = str(stopped.value)
    expected = {"cancel": "stopped", "kill": "killed (SIGKILL)", "abort": "llama.cpp aborted the training"}
    assert expected[how] in said and "nothing was saved" in said
    folder = get_paths().models / "taught"
    assert list(folder.iterdir()) == [] and not _children_running_the_trainer()


def test_token_ids_past_the_vocabulary_are_refused_by_the_child(llm_home: Path, model_path: Path) -> None:
    """llama.cpp itself trains on them without a word (reading past its embedding table)."""
    job = replace(_job(model_path, "broken", epochs=1), stream=[10**8] * 300)
    with pytest.raises(ProblemError) as failed:
        run.run(job, get_paths())
    said = str(failed.value)
    assert (
        "nothing was saved" in said and "not 257 token ids of this model's 49152" in said and "\n" not in said
    )
    assert list((get_paths().models / "taught").iterdir()) == []


def test_a_name_that_exists_is_refused_before_anything_runs(llm_home: Path, model_path: Path) -> None:
    folder = get_paths().models / "taught"
    folder.mkdir(parents=True)
    (folder / "mine.gguf").write_bytes(b"the user's own")
    with pytest.raises(ProblemError, match="already exists"):
        run.run(_job(model_path, "mine"), get_paths())
    assert (folder / "mine.gguf").read_bytes() == b"the user's own"


def test_a_work_folder_left_by_a_killed_app_is_cleared_by_the_next_run(llm_home: Path) -> None:
    folder = run.taught_folder(get_paths())
    gone, alive = folder / ".teaching-gone", folder / ".teaching-alive"
    for work, owner in ((gone, 2**22 + 12345), (alive, os.getpid())):
        work.mkdir(parents=True)
        (work / run.OWNER).write_text(str(owner))
    assert run.leftovers(get_paths()) == [gone]  # (a pid past the kernel's limit is no process)


def test_only_the_chosen_tensors_learn(
    taught: tuple[Paths, run.Result, list[float]], model_path: Path
) -> None:
    """llama.cpp's param_filter, by name: with one norm vector trained, the same steps that taught
    the whole model barely move the loss."""
    _paths, _result, everything = taught
    losses: list[float] = []
    job = replace(_job(model_path, "norm-only"), trained=r"^output_norm\.")
    run.run(job, get_paths(), lambda p: losses.extend(p.losses[len(losses) :]))
    assert len(losses) == len(everything) and losses[0] == pytest.approx(everything[0], rel=0.05)
    assert losses[-1] > 0.9 * losses[0] > everything[-1]
