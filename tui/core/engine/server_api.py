"""Talking to llama.cpp's own HTTP server (`llama-server`): requests, streamed events, and errors.

Only what llm-tui uses: ``GET /props``, ``POST /tokenize``, ``POST /detokenize``, streaming
``POST /completion`` and ``POST /slots/{id}?action=erase``. Every failure becomes one `ServerError`
line that says what to do. Timeouts are a short one to connect and an idle one between streamed
events, never a total one: a big model evaluating a long prompt is slow but alive, and it says so
with progress events (``return_progress``).

Stopping never waits for the peer: `hang_up` shuts down every socket this client opened, from
whichever thread stops, so a read blocked on a silent or dripping server returns at once. Every
answer is read in bounded pieces and refused past `EVENT_LIMIT`, before it is all in memory.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Generator, Iterator
from typing import Any

import httpx2

from tui.core.crash import keep_secret
from tui.core.engine.values import EngineError
from tui.core.hangup import cut
from tui.core.settings.server import ServerSettings, check_url

EVENT_LIMIT = 16 * 1024 * 1024
"""The longest streamed event or response read (a hostile server must not exhaust memory)."""


class ServerError(EngineError):
    """The server could not be reached, refused us, or answered something llm-tui cannot use."""


class ServerAPI:
    """One HTTP client to one llama-server, with its API key and timeouts."""

    def __init__(self, settings: ServerSettings) -> None:
        problem = check_url(settings.url)
        if problem:
            raise ServerError(problem)
        self.settings = settings
        headers = {}
        key = os.environ.get(settings.api_key_env)
        if key:
            keep_secret(key)  # out of crash reports, whatever the variable is called
            headers["Authorization"] = f"Bearer {key}"
        timeout = httpx2.Timeout(
            connect=settings.connect_timeout,
            read=settings.idle_timeout,
            write=settings.idle_timeout,
            pool=settings.connect_timeout,
        )
        self._client = httpx2.Client(base_url=settings.url.rstrip("/"), headers=headers, timeout=timeout)
        self._sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self._sockets_lock = threading.Lock()
        self._extensions = {"trace": self._trace}
        self.hung_up = False
        """Set by `hang_up` until the next request: a failed read then means "we stopped it"."""

    def _trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: remember each connection's network stream as it is opened."""
        if name.endswith("connect_tcp.complete") and info.get("return_value") is not None:
            with self._sockets_lock:
                self._sockets.add(info["return_value"])

    def hang_up(self) -> None:
        """Cut every connection of this client now (any thread): blocked reads return at once."""
        self.hung_up = True
        with self._sockets_lock:
            streams = list(self._sockets)
        for stream in streams:
            cut(stream)

    def get(self, path: str) -> dict[str, Any]:
        return self._json("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", path, body)

    def stream(self, path: str, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The server-sent events of a streamed request, as JSON objects; closing the iterator hangs
        up, which is how llama-server learns to stop generating."""
        self.hung_up = False
        try:
            with self._client.stream("POST", path, json=body, extensions=self._extensions) as response:
                self._check(response, path)
                for line in _lines(response.iter_bytes()):
                    if not line.startswith(b"data:"):
                        continue  # blank separators and comments
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        return
                    event = _parse(data, path)
                    if "error" in event:
                        raise ServerError(f"{self.settings.url}{path}: {_error_text(event['error'])}")
                    yield event
        except httpx2.HTTPError as exc:
            if self.hung_up:
                return  # we cut it: the caller stopped the reply
            raise self._transport_error(exc, path) from exc

    def close(self) -> None:
        self._client.close()

    def _json(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        self.hung_up = False
        try:
            with self._client.stream(method, path, json=body, extensions=self._extensions) as response:
                self._check(response, path)
                return _parse(self._bounded(response, path), path)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc, path) from exc

    def _bounded(self, response: httpx2.Response, path: str) -> bytes:
        """The whole answer, refused as soon as it passes `EVENT_LIMIT` (never read whole first)."""
        too_big = ServerError(f"{self.settings.url}{path}: the answer is larger than {EVENT_LIMIT} bytes")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > EVENT_LIMIT:
            raise too_big
        content = bytearray()
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > EVENT_LIMIT:
                raise too_big
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml") or content.lstrip()[:1] == b"<":
            raise ServerError(
                f"{self.settings.url}{path}: the answer is a web page, not llama-server's JSON; "
                "is this the address of llama-server?"
            )
        return bytes(content)

    def _check(self, response: httpx2.Response, path: str) -> None:
        status = response.status_code
        url = f"{self.settings.url}{path}"
        if 300 <= status < 400:
            where = response.headers.get("location", "")[:200]
            raise ServerError(
                f"{url}: HTTP {status}, redirected to {where!r}; llm-tui does not follow redirects (the API "
                "key would go along): give the server's own address"
            )
        if status < 400:
            return
        if status == 401:
            env = self.settings.api_key_env
            given = "was refused" if os.environ.get(env) else f"is needed: set ${env}"
            raise ServerError(f"{url}: 401 unauthorized; the server's API key {given}")
        if status == 404 and path == "/props":
            raise ServerError(f"{url}: 404; this does not look like llama.cpp's llama-server")
        content = b""
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > 64 * 1024:
                break  # an error page is read only as far as its first words
        detail = ""
        try:
            detail = _error_text(json.loads(content).get("error"))
        except (ValueError, AttributeError, RecursionError):
            detail = content[:200].decode("utf-8", errors="replace").strip()
        raise ServerError(f"{url}: HTTP {status}{': ' + detail if detail else ''}")

    def _transport_error(self, exc: httpx2.HTTPError, path: str) -> ServerError:
        url = self.settings.url
        if isinstance(exc, httpx2.ConnectTimeout):
            return ServerError(
                f"{url}: no answer within {self.settings.connect_timeout:g} s (connect timeout)"
            )
        if isinstance(exc, httpx2.ConnectError):
            return ServerError(f"cannot connect to {url}: is llama-server running there? ({exc})")
        if isinstance(exc, httpx2.ReadTimeout):
            return ServerError(
                f"{url}{path}: nothing from the server for {self.settings.idle_timeout:g} s (idle timeout)"
            )
        if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError):
            return ServerError(f"{url}{path}: the server closed the connection ({exc or type(exc).__name__})")
        return ServerError(f"{url}{path}: {type(exc).__name__}: {exc}")


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Split a byte stream into lines, refusing a line longer than `EVENT_LIMIT`."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line.rstrip(b"\r") for line in lines)
        if len(pending) > EVENT_LIMIT:
            raise ServerError(f"a streamed event is longer than {EVENT_LIMIT} bytes")
    if pending:
        yield pending


def _parse(data: bytes, path: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ServerError(f"{path}: the server's answer is not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ServerError(f"{path}: expected a JSON object from the server")
    return value


def _error_text(error: object) -> str:
    """The server's own words, on one line and not too many of them."""
    if isinstance(error, dict):
        error = error.get("message") or error.get("type") or error
    return " ".join(str(error or "").split())[:300]
