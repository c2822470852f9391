"""Reading GGUF metadata without the weights, and clear errors for files that are not GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.models import gguf


def test_reads_the_real_smollm2_header(model_path: Path) -> None:
    meta = gguf.read_metadata(model_path)
    assert gguf.architecture(meta) == "llama"
    assert gguf.trained_context(meta) == 8192
    assert gguf.block_count(meta) == 30
    assert "SmolLM" in meta["tokenizer.chat_template"]
    assert meta["tokenizer.ggml.tokens"] == 49152  # the vocabulary is counted, not kept


def test_truncated_file(model_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(model_path.read_bytes()[:5000])
    with pytest.raises(gguf.GGUFError, match="truncated or corrupt"):
        gguf.read_metadata(cut)


def test_not_a_gguf(tmp_path: Path) -> None:
    other = tmp_path / "x.gguf"
    other.write_text("hello")
    with pytest.raises(gguf.GGUFError, match="not a GGUF file"):
        gguf.read_metadata(other)
    with pytest.raises(gguf.GGUFError, match="is a folder"):
        gguf.read_metadata(tmp_path)
