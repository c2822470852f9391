"""Which llama-server to use, if any: ``--server URL``, else ``$LLM_TUI_SERVER``, else ``config.toml``.

```toml
[server]
url = "http://gpu-box:8080"
api_key_env = "LLAMA_API_KEY"   # the variable that holds llama-server's --api-key (never the key)
connect_timeout = 5             # seconds to connect
idle_timeout = 120              # seconds of silence between streamed events
```

The key itself is only ever read from the environment: it is never written to a transcript, a log,
a crash report or ``state.toml``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.core.problems import Problem
from tui.core.settings.config import read_config
from tui.paths import Paths

ENV = "LLM_TUI_SERVER"
DEFAULT_KEY_ENV = "LLAMA_API_KEY"
_KEYS = {"url", "api_key_env", "connect_timeout", "idle_timeout"}
_TIMEOUT_MAX = 24 * 3600.0


@dataclass(frozen=True)
class ServerSettings:
    """Where the server is and how patient to be."""

    url: str
    api_key_env: str = DEFAULT_KEY_ENV
    connect_timeout: float = 5.0
    idle_timeout: float = 120.0

    @property
    def where(self) -> str:
        """``host:port``, as the status line shows it."""
        return urlsplit(self.url).netloc or self.url

    def is_loopback(self) -> bool:
        host = (urlsplit(self.url).hostname or "").lower()
        return host in ("localhost", "::1") or host.startswith("127.")

    def warning(self) -> str | None:
        """Said once: prompts sent to another machine without TLS can be read on the way."""
        if urlsplit(self.url).scheme == "http" and not self.is_loopback():
            return f"{self.url} is plain http: prompts and replies cross the network unencrypted"
        return None


def check_url(url: str) -> str | None:
    """None when ``url`` can name a server, else what is wrong with it."""
    expected = "expected http://HOST:PORT or https://HOST:PORT"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port  # a port that is not a number raises here
    except ValueError as exc:
        return f"`{url}` is not a server URL ({exc}): {expected}"
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return f"`{url}` is not a server URL: {expected}"
    if not host or any(c.isspace() for c in host) or (port is not None and not 0 < port < 65536):
        return f"`{url}` is not a server URL (no usable host or port): {expected}"
    try:
        host.encode("idna")  # what the HTTP client does with a name; a 300-letter label fails
    except UnicodeError as exc:
        return f"`{url}` is not a server URL (the host name is not valid: {exc}): {expected}"
    return None


def server_settings(
    paths: Paths, flag: str | None, environ: Mapping[str, str] | None = None
) -> tuple[ServerSettings | None, list[Problem]]:
    """The server to use (None: run models here), and any problems with ``[server]`` in config.toml.

    A bad URL given on the command line or in the environment is a `ValueError` (the user asked for
    it just now); a bad table in the file is a problem reported with the file and key.
    """
    environ = os.environ if environ is None else environ
    data, problems = read_config(paths)
    table = data.get("server", {})
    source = str(paths.config_file)
    fields: dict[str, object] = {}
    if not isinstance(table, dict):
        problems.append(Problem(source, "`server` must be a table: [server]", key="server"))
        table = {}
    for key, value in table.items():
        problem = _check(key, value)
        if problem:
            problems.append(Problem(source, problem, entry="[server]", key=key))
        else:
            fields[key] = float(value) if key.endswith("timeout") else value
    for origin, url in (("--server", flag), (f"${ENV}", environ.get(ENV))):
        if url:
            problem = check_url(url)
            if problem:
                raise ValueError(f"{origin}: {problem}")
            fields["url"] = url
            break
    if "url" not in fields:
        return None, problems
    return ServerSettings(**fields), problems  # type: ignore[arg-type]


def _check(key: str, value: object) -> str | None:
    if key not in _KEYS:
        return f"unknown key `{key}` (known: {', '.join(sorted(_KEYS))})"
    if key == "url":
        return check_url(value) if isinstance(value, str) else "`url` must be a string"
    if key == "api_key_env":
        named = isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) is not None
        return None if named else '`api_key_env` must name an environment variable, e.g. "LLAMA_API_KEY"'
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= _TIMEOUT_MAX
    return None if ok else f"`{key}` must be a number of seconds above 0 and at most {_TIMEOUT_MAX:g}"
