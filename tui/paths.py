"""Every location llm-tui reads or writes, in one place.

Locations come from platformdirs, or all from one folder when ``LLM_TUI_HOME`` is set (tests use that
so they never touch the real home). Nothing is created here at import time; callers create folders when
they first write into them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "llm-tui"
HOME_ENV = "LLM_TUI_HOME"


@dataclass(frozen=True)
class Paths:
    """The three roots and the well-known places inside them."""

    config: Path
    data: Path
    cache: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def user_personas(self) -> Path:
        return self.config / "personas"

    @property
    def user_catalog(self) -> Path:
        return self.config / "models.toml"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def sessions(self) -> Path:
        return self.data / "sessions"

    def as_rows(self) -> list[tuple[str, Path]]:
        """Name/path pairs, in the order `llm-tui paths` prints them."""
        return [
            ("config", self.config),
            ("config file", self.config_file),
            ("user personas", self.user_personas),
            ("user catalog", self.user_catalog),
            ("data", self.data),
            ("models", self.models),
            ("sessions", self.sessions),
            ("cache", self.cache),
            ("bundled personas", bundled_personas_dir()),
            ("bundled catalog", bundled_catalog_file()),
        ]


def get_paths() -> Paths:
    """Resolve the locations now, honouring ``LLM_TUI_HOME`` if it is set."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config=root / "config", data=root / "data", cache=root / "cache")
    return Paths(
        config=platformdirs.user_config_path(APP_NAME, appauthor=False),
        data=platformdirs.user_data_path(APP_NAME, appauthor=False),
        cache=platformdirs.user_cache_path(APP_NAME, appauthor=False),
    )


def _bundled_root() -> Path:
    """Where the bundled personas and catalog are: inside the wheel, or the source checkout."""
    package_dir = Path(__file__).resolve().parent
    in_wheel = package_dir / "_bundled"
    if in_wheel.is_dir():
        return in_wheel
    return package_dir.parent


def bundled_personas_dir() -> Path:
    return _bundled_root() / "personas"


def bundled_catalog_file() -> Path:
    return _bundled_root() / "models.toml"
