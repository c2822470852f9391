"""A real llama-server on loopback with the embedded SmolLM2, shared by the tests that only read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.llama_server import LlamaServer


@pytest.fixture(scope="session")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    running = LlamaServer(model_path, tmp_path_factory.mktemp("llama-server") / "server.log")
    yield running
    running.stop()
