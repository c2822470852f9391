"""The real `llm-tui` on a pseudo-terminal of the test's own, so a test can close the terminal under
it (with or without a SIGHUP), signal it, and time how long it takes to end."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

from tests.tmux import COMMAND


class PtyApp:
    """``llm-tui ARGS`` with a pty as its terminal; what it writes is drained (and kept) by a thread.

    ``controlling``: the pty is the app's controlling terminal, so closing it sends SIGHUP (a
    terminal window closed); without, it just goes dead under the app (a dropped connection whose
    shell did not pass the hang-up on).
    """

    def __init__(self, home: Path, *args: str, controlling: bool = True) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {**os.environ, "LLM_TUI_HOME": str(home), "TERM": "xterm-256color"}
        self.output = bytearray()
        self.process = subprocess.Popen(
            [str(COMMAND), *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            preexec_fn=(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0)) if controlling else None,
        )  # fmt: skip
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if self.process.poll() is not None:
                self._reader.join(5)  # what it wrote before it ended is still coming
                assert text.encode() in self.output, (
                    f"llm-tui ended ({self.process.returncode}) before {text!r}"
                )
                return
            assert time.monotonic() < deadline, f"no {text!r} on the terminal in {timeout} s"
            time.sleep(0.05)

    def close_terminal(self) -> None:
        os.close(self.master)

    def signal(self, number: signal.Signals) -> None:
        self.process.send_signal(number)

    def ended_within(self, seconds: float) -> int | None:
        """The exit status if it ended within ``seconds``; None (and killed) if not."""
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
