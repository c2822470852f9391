"""A GGUF header is accepted or refused within 2 s and 200 MB whatever sizes it declares, before
llama.cpp sees the file (sparse files, so the bombs cost no disk); the real header reads fast."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.gguf_craft import ARRAY, STRING, UINT32, _str, header

MEASURE = (
    "import sys, time\n"
    "from tui.core.models import gguf\n"
    "started = time.perf_counter()\n"
    "try:\n"
    "    gguf.read_metadata(__import__('pathlib').Path(sys.argv[1]))\n"
    "    said = 'accepted'\n"
    "except gguf.GGUFError as exc:\n"
    "    said = str(exc)\n"
    "took = time.perf_counter() - started\n"
    "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print(f'{took:.3f} {int(peak) // 1024} {said}')\n"
)
"""Reads one header in a fresh process: seconds, peak MiB, and what it said."""


def sparse(path: Path, head: bytes, size: int) -> Path:
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)  # a hole: declared lengths fit in the file, no disk is used
    return path


def many_large_keys(path: Path, keys: int, each: int) -> Path:
    """``keys`` keys whose string values are ``each`` bytes of hole: sound, just huge."""
    with path.open("wb") as f:
        f.write(header(b"", keys))
        for number in range(keys):
            f.write(_str(f"k{number}".encode()) + struct.pack("<IQ", STRING, each))
            f.seek(each, os.SEEK_CUR)
        f.truncate(f.tell())
    return path


def bombs(folder: Path) -> dict[str, Path]:
    big = 60 << 20
    fixed = _str(b"tokenizer.ggml.scores") + struct.pack("<IIQ", ARRAY, 6, 250_000_000)
    empties = _str(b"empties") + struct.pack("<IIQ", ARRAY, ARRAY, 8_000_000)
    empties += struct.pack("<IQ", UINT32, 0) * 8_000_000
    strings = _str(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, 10_000_000)
    strings += _str(b"") * 10_000_000
    return {
        "many-large-keys": many_large_keys(folder / "keys.gguf", 1000, 32 << 20),
        "a-1-GB-fixed-size-array": sparse(folder / "fixed.gguf", header(fixed, 1), 2 << 30),
        "8-million-empty-arrays": sparse(folder / "empties.gguf", header(empties, 1), len(empties) + big),
        "10-million-empty-strings": sparse(folder / "strings.gguf", header(strings, 1), len(strings) + big),
    }


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bombs(tmp_path_factory.mktemp("bombs"))


def measure(path: Path) -> tuple[float, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    took, peak, said = done.stdout.strip().split(" ", 2)
    return float(took), int(peak), said


@pytest.mark.parametrize(
    "name",
    ["many-large-keys", "a-1-GB-fixed-size-array", "8-million-empty-arrays", "10-million-empty-strings"],
)
def test_a_header_bomb_is_refused_in_bounded_time_and_memory(crafted: dict[str, Path], name: str) -> None:
    took, peak, said = measure(crafted[name])
    assert said.startswith(str(crafted[name])) and "corrupt GGUF header" in said, said
    assert took < 2.0, f"{name}: {took:.2f} s"
    assert peak < 200 + 60, f"{name}: {peak} MiB at peak"  # the interpreter and llm-tui's imports: ~40 MiB


def test_the_embedded_models_header_reads_in_a_blink(model_path: Path) -> None:
    took, _peak, said = measure(model_path)
    assert said == "accepted"
    assert took < 0.1, f"{took:.3f} s"
