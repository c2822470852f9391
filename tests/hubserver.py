"""A local HTTP server that speaks the parts of the Hugging Face hub protocol llm-tui uses.

HEAD/GET ``/{repo}/resolve/{revision}/{file}`` with ``X-Repo-Commit``, ``ETag`` (the LFS sha256),
``Content-Length``, ``Accept-Ranges`` and ``Range``; ``/api/models/{repo}`` with ``siblings``; and the
hub's error codes (``X-Error-Code: RepoNotFound``, ``EntryNotFound``, ``GatedRepo``). Faults can be
injected: drop the connection part-way, or serve bytes that do not match the advertised hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "ab810cf6" + "0" * 32
CHUNK = 1 << 20


@dataclass
class Hosted:
    path: Path
    sha256: str
    size: int


@dataclass
class FakeHub:
    repos: dict[str, dict[str, Hosted]] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    drop_after: int | None = None
    """Bytes to send on the next GET of a file before the connection is cut (once)."""
    corrupt: bool = False
    rate_limit: float | None = None
    """Bytes per second to serve at (a network link of that speed); None: as fast as possible."""
    chunk_delay: float = 0.0
    """Seconds to wait after each MiB, to make a download slow enough to watch or cancel."""
    refuse_ranges: bool = False
    """Answer every GET with a Range with 416 (a server that will not resume)."""
    fail_next: int | None = None
    """Answer the next GET of a file with this HTTP status (once)."""
    stall_after: int | None = None
    """Send this many bytes of the next GET of a file, then nothing, for ever (once)."""
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""

    def host(self, repo: str, name: str, path: Path) -> Hosted:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        hosted = Hosted(path, digest, path.stat().st_size)
        self.repos.setdefault(repo, {})[name] = hosted
        return hosted

    def bytes_sent_for(self, name: str) -> list[str | None]:
        """The Range header of every GET of ``name`` (None: the whole file)."""
        return [r for m, p, r in self.requests if m == "GET" and p.endswith("/" + name)]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            if self.path.startswith("/api/models/"):
                self._api()
            else:
                self._serve(body=True)

        def _error(self, status: int, code: str) -> None:
            payload = json.dumps({"error": code}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _api(self) -> None:
            match = re.match(r"^/api/models/([^/]+/[^/?]+)(?:/revision/[^/?]+)?(?:\?.*)?$", self.path)
            repo = match.group(1) if match else ""
            hub.requests.append(("GET", self.path, None))
            if repo not in hub.repos:
                self._error(404, "RepoNotFound")
                return
            siblings = [
                {
                    "rfilename": name,
                    "size": h.size,
                    "lfs": {"sha256": h.sha256, "size": h.size, "pointerSize": 134},
                }
                for name, h in hub.repos[repo].items()
            ]
            payload = json.dumps({"id": repo, "modelId": repo, "sha": COMMIT, "siblings": siblings}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _serve(self, body: bool) -> None:
            hub.requests.append((self.command, self.path, self.headers.get("Range")))
            match = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", self.path)
            if not match:
                self._error(404, "RepoNotFound")
                return
            repo, _revision, name = match.groups()
            if repo in hub.gated:
                self._error(401, "GatedRepo")
                return
            if repo not in hub.repos:
                self._error(404, "RepoNotFound")
                return
            hosted = hub.repos[repo].get(name)
            if hosted is None:
                self._error(404, "EntryNotFound")
                return
            if body and hub.fail_next is not None:
                status, hub.fail_next = hub.fail_next, None
                self._error(status, "InternalError")
                return
            if body and hub.refuse_ranges and self.headers.get("Range"):
                self._error(416, "RangeNotSatisfiable")
                return
            start = 0
            ranged = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
            if ranged and body:
                start = int(ranged.group(1))
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hosted.sha256}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(hosted.size - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{hosted.size - 1}/{hosted.size}")
            self.end_headers()
            if body:
                self._send_file(hosted, start)

        def _send_file(self, hosted: Hosted, start: int) -> None:
            limit, hub.drop_after = hub.drop_after, None
            stall, hub.stall_after = hub.stall_after, None
            sent, began = 0, time.monotonic()
            with hosted.path.open("rb") as f:
                f.seek(start)
                while block := f.read(CHUNK):
                    if hub.corrupt:
                        block = bytes(b ^ 0xFF for b in block[:16]) + block[16:]
                    if stall is not None and sent + len(block) > stall:
                        self.wfile.write(block[: stall - sent])
                        self.wfile.flush()
                        time.sleep(3600)
                    if limit is not None and sent + len(block) > limit:
                        self.wfile.write(block[: limit - sent])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    try:
                        self.wfile.write(block)
                    except OSError:
                        return  # the client went away (cancelled)
                    sent += len(block)
                    if hub.chunk_delay:
                        time.sleep(hub.chunk_delay)
                    if hub.rate_limit:
                        time.sleep(max(0.0, sent / hub.rate_limit - (time.monotonic() - began)))

    return Handler


@contextmanager
def serve(hub: FakeHub) -> Iterator[FakeHub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
