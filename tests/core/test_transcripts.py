"""Saved transcripts are read into typed records, and a damaged one names the key that is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tui.core.chat import transcripts
from tui.core.chat.transcripts import SavedModel, SavedTurn, Transcript
from tui.paths import get_paths

RECORD = Transcript(
    id="abc123",
    number=2,
    started="2026-11-28T08:00:00+00:00",
    saved="2026-11-28T08:01:00+00:00",
    model=SavedModel("SmolLM2 135M", "/models/smol.gguf", 2048, "CPU"),
    persona="pirate",
    system="Talk like a pirate.",
    sampling={"temperature": 0.7, "top_p": 0.95, "seed": None},
    turns=(
        SavedTurn("Hi", "Arr!", 5, "end_of_turn", 30, 3, 95.5, "<|im_start|>system\n…", asked=1),
        SavedTurn("Stopped?", "Aye", None, None, 40, None, None, "<|im_start|>system\n……", parent=0, asked=2),
        SavedTurn(
            "Stopped?",
            "Nay",
            9,
            "end_of_turn",
            40,
            2,
            80.0,
            "<|im_start|>system\n……",
            parent=0,
            asked=2,
            origin="regenerated",
        ),
    ),
    path=(0, 2),
)


def test_a_transcript_survives_json_unchanged() -> None:
    text = json.dumps(RECORD.to_json())
    assert transcripts.parse(json.loads(text)) == RECORD
    assert json.loads(text)["format"] == transcripts.FORMAT


def _damaged(change: str) -> dict[str, Any]:
    data = json.loads(json.dumps(RECORD.to_json()))
    if change == "missing user":
        del data["turns"][1]["user"]
    elif change == "number as text":
        data["number"] = "2"
    elif change == "bool prompt tokens":
        data["turns"][0]["prompt_tokens"] = True
    elif change == "sampling text":
        data["sampling"]["temperature"] = "hot"
    elif change == "model not an object":
        data["model"] = "smol"
    elif change == "future format":
        data["format"] = 99
    elif change == "parent ahead":
        data["turns"][0]["parent"] = 2
    elif change == "path jumps":
        data["path"] = [2]
    elif change == "path stops short":
        data["path"] = [0]
    elif change == "path out of range":
        data["path"] = [0, 7]
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("missing user", "missing turns[1].user"),
        ("number as text", "number: expected a whole number, not text"),
        ("bool prompt tokens", "turns[0].prompt_tokens: expected a whole number, not bool"),
        ("sampling text", "sampling.temperature: expected a number, not str"),
        ("model not an object", "model: expected an object, not text"),
        ("future format", "format 99 is not one this version reads"),
        ("parent ahead", "turns[0].parent: expected an earlier turn's index, not 2"),
        ("path jumps", "path[0]: turn 2 does not follow turn None"),
        ("path stops short", "path: does not end at the last turn of its branch"),
        ("path out of range", "path[1]: expected the index of a turn, not 7"),
    ],
)
def test_a_damaged_transcript_names_the_key(change: str, named: str) -> None:
    with pytest.raises(ValueError) as error:
        transcripts.parse(_damaged(change))
    assert named in str(error.value)


def test_a_format_1_file_is_read_as_one_straight_path() -> None:
    """Older transcripts (no parents, no path) are read as they are: every turn after the last."""
    data = RECORD.to_json()
    data["format"] = 1
    del data["path"]
    for turn in data["turns"]:
        for key in ("parent", "asked", "origin", "branched_at"):
            del turn[key]
    old = transcripts.parse(data)
    assert old.format == 1 and old.path == (0, 1, 2)
    assert [t.parent for t in old.turns] == [None, 0, 1]
    assert [t.user for t in old.path_turns] == ["Hi", "Stopped?", "Stopped?"]
    assert old.to_json()["format"] == transcripts.FORMAT  # written in the new format if saved again


def test_not_an_object_at_all() -> None:
    with pytest.raises(ValueError, match="the file: expected a JSON object"):
        transcripts.parse([1, 2])


def test_listing_keeps_good_sessions_and_reports_damaged_ones_by_key(llm_home: Path) -> None:
    folder = get_paths().sessions
    folder.mkdir(parents=True)
    (folder / "20261128-080000-abc123.json").write_text(json.dumps(RECORD.to_json()))
    (folder / "20261128-090000-bad.json").write_text(json.dumps(_damaged("missing user")))
    found, problems = transcripts.list_saved(get_paths())
    assert [(s.id, s.turns, s.first_message, s.model) for s in found] == [("abc123", 2, "Hi", "SmolLM2 135M")]
    assert len(problems) == 1
    assert "20261128-090000-bad.json" in str(problems[0]) and "turns[1].user" in str(problems[0])
