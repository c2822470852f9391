"""Which server: --server, then $LLM_TUI_SERVER, then [server] in config.toml; bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.settings.server import ServerSettings, server_settings
from tui.paths import get_paths


def _config(home: Path, text: str) -> None:
    path = get_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_flag_then_environment_then_file(llm_home: Path) -> None:
    _config(llm_home, '[server]\nurl = "http://file:1"\nidle_timeout = 600\napi_key_env = "MY_KEY"\n')
    env = {"LLM_TUI_SERVER": "http://env:2"}
    flag, _ = server_settings(get_paths(), "http://flag:3", env)
    from_env, _ = server_settings(get_paths(), None, env)
    from_file, problems = server_settings(get_paths(), None, {})
    assert flag is not None and flag.url == "http://flag:3" and flag.idle_timeout == 600
    assert from_env is not None and from_env.url == "http://env:2" and from_env.api_key_env == "MY_KEY"
    assert from_file == ServerSettings("http://file:1", "MY_KEY", 5.0, 600.0) and problems == []


def test_no_server_anywhere_runs_models_here(llm_home: Path) -> None:
    assert server_settings(get_paths(), None, {}) == (None, [])


def test_bad_values_in_the_file_are_named_and_skipped(llm_home: Path) -> None:
    _config(
        llm_home,
        '[server]\nurl = "ftp://x"\nconnect_timeout = 0\napi_key_env = "not a name"\nport = 8080\n',
    )
    settings, problems = server_settings(get_paths(), None, {})
    assert settings is None
    text = "\n".join(str(p) for p in problems)
    for expected in (
        "url",
        "not a server URL",
        "connect_timeout",
        "above 0",
        "api_key_env",
        "unknown key `port`",
    ):
        assert expected in text
    assert all("config.toml" in str(p) for p in problems)


def test_a_bad_url_given_now_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"--server: `gpu-box:8080` is not a server URL"):
        server_settings(get_paths(), "gpu-box:8080", {})
    with pytest.raises(ValueError, match=r"\$LLM_TUI_SERVER"):
        server_settings(get_paths(), None, {"LLM_TUI_SERVER": "localhost"})


def test_plain_http_to_another_machine_is_warned_about() -> None:
    assert ServerSettings("http://127.0.0.1:8080").warning() is None
    assert ServerSettings("http://localhost:8080").warning() is None
    assert ServerSettings("https://gpu-box:8443").warning() is None
    warning = ServerSettings("http://gpu-box:8080").warning()
    assert warning is not None and "unencrypted" in warning
    assert ServerSettings("http://gpu-box:8080").where == "gpu-box:8080"


def test_a_server_key_never_reaches_a_crash_report_whatever_its_variable_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.core import crash
    from tui.core.engine.server_api import ServerAPI

    monkeypatch.setenv("GPUBOX", "open-sesame-42")  # a name that does not look secret
    assert "open-sesame-42" in crash.redact("key open-sesame-42")  # not known yet
    api = ServerAPI(ServerSettings("http://127.0.0.1:9", api_key_env="GPUBOX"))
    api.close()
    assert crash.redact("key open-sesame-42") == f"key {crash.REDACTED}"
