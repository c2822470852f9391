"""A llama-server stand-in that misbehaves on purpose: it speaks enough of the real protocol
(``/props``, ``/tokenize``, ``/detokenize``, streamed ``/completion``, slot erase) for llm-tui to
connect, then answers the way a test sets it: terminal escapes, a byte a second, nothing at all, a
reply that never ends, ids that are not ids, a huge ``/props``.

The vocabulary is one token per character (id = code point), so no model is needed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@dataclass
class Behaviour:
    """What the stand-in does; a test changes it between turns."""

    reply: list[str] = field(default_factory=lambda: ["Hello", " there."])
    """The reply's pieces, one streamed event each (JSON-escaped, so lone surrogates survive)."""
    delay: float = 0.0
    """Seconds between two events (a slow peer)."""
    endless: bool = False
    """Repeat the reply for ever, ignoring n_predict."""
    silent_props: bool = False
    """Accept ``GET /props`` and never answer (a server still loading, or wedged)."""
    silent_completion: bool = False
    """Accept ``/completion`` and never send a byte."""
    tokens: Any = None
    """What each event's ``tokens`` holds (default: the piece's first character's id)."""
    props: dict[str, Any] = field(default_factory=dict)
    """Keys that replace or add to the real-looking ``/props``."""
    props_padding: int = 0
    """Bytes of padding in ``/props`` (a huge answer)."""
    props_answer: bytes | None = None
    """Raw bytes for ``/props`` instead of JSON (a web page)."""
    redirect: str = ""
    """Answer every request with a redirect here."""
    cut_after: int | None = None
    """Close the connection after this many events, without the final one (a server gone)."""
    completion_status: int = 200
    """Answer ``/completion`` with this status instead (a 500)."""
    completions: int = 0
    """How many ``/completion`` requests arrived."""
    hung_up: threading.Event = field(default_factory=threading.Event)
    """Set when a client closed a streamed reply (the peer sees the hang-up)."""


def props(behaviour: Behaviour) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "chat_template": TEMPLATE,
        "bos_token": "",
        "eos_token": "<|end|>",
        "model_path": "/models/stand-in.gguf",
        "total_slots": 1,
        "build_info": "b9999-standin",
        "default_generation_settings": {"n_ctx": 4096},
    }
    answer |= behaviour.props
    if behaviour.props_padding:
        answer["padding"] = "x" * behaviour.props_padding
    return answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass

    def _send_json(self, value: object, status: int = 200) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        value = json.loads(self.rfile.read(length) or b"{}")
        return value if isinstance(value, dict) else {}

    def _redirected(self) -> bool:
        where = self.server.behaviour.redirect
        if where:
            self.send_response(302)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()
        return bool(where)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self._redirected():
            return
        if self.server.behaviour.silent_props:
            time.sleep(3600)
            return
        raw = self.server.behaviour.props_answer
        if self.path == "/props" and raw is not None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        elif self.path == "/props":
            self._send_json(props(self.server.behaviour))
        else:
            self._send_json({"error": {"message": "not found"}}, 404)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self._body()
        if self._redirected():
            return
        if self.path == "/tokenize":
            text = str(body.get("content", ""))
            self._send_json({"tokens": [{"id": ord(c), "piece": c} for c in text]})
        elif self.path == "/detokenize":
            ids = [t for t in body.get("tokens", []) if isinstance(t, int) and 0 <= t < 0x110000]
            self._send_json({"content": "".join(chr(t) for t in ids)})
        elif self.path.startswith("/slots/"):
            self._send_json({"id_slot": 0, "n_erased": 0})
        elif self.path == "/completion":
            self._completion(body)
        else:
            self._send_json({"error": {"message": "not found"}}, 404)

    def _completion(self, body: dict[str, Any]) -> None:
        behaviour = self.server.behaviour
        behaviour.completions += 1
        if behaviour.completion_status != 200:
            failure = {"error": {"message": "the stand-in fails on purpose"}}
            self._send_json(failure, behaviour.completion_status)
            return
        if behaviour.silent_completion:
            time.sleep(3600)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        limit = int(body.get("n_predict") or -1)
        try:
            for count, piece in enumerate(self._pieces(behaviour), start=1):
                own = [ord(piece[0]) if piece else 32]
                tokens = behaviour.tokens if behaviour.tokens is not None else own
                self._event({"content": piece, "tokens": tokens, "stop": False})
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                if behaviour.cut_after == count:
                    self.close_connection = True
                    return
                if not behaviour.endless and 0 < limit <= count:
                    break
            self._event({"content": "", "stop": True, "stop_type": "eos", "timings": {"cache_n": 0}})
        except (BrokenPipeError, ConnectionResetError):
            behaviour.hung_up.set()

    @staticmethod
    def _pieces(behaviour: Behaviour) -> Iterator[str]:
        while True:
            yield from behaviour.reply
            if not behaviour.endless:
                return

    def _event(self, value: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(value).encode() + b"\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-answer is what these tests do on purpose


class Peer:
    """The stand-in, listening on 127.0.0.1 in a thread of the test process."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviour = self.behaviour
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
