"""No process of llm-tui outlives it: the template renderer, busy with a hostile template that
would run for hours, ends within 2 s of llm-tui ending, however it ended (ctrl+c, SIGTERM, even
SIGKILL, which llm-tui cannot act on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile.gguf_craft import with_template

FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_the_renderer_ends_with_llm_tui(
    how: signal.Signals, llm_home: Path, model_path: Path, tmp_path: Path
) -> None:
    model = with_template(model_path, tmp_path / "forever.gguf", FOREVER)
    env = {**os.environ, "LLM_TUI_HOME": str(llm_home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "prompt", "--model", str(model), "hi"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        renderer = None
        while renderer is None or cpu_seconds(renderer) < 0.5:  # busy with the template
            assert time.monotonic() < deadline and process.poll() is None, "the render never started"
            found = [p for p in children(process.pid) if "sandbox" in Path(f"/proc/{p}/cmdline").read_text()]
            renderer = found[0] if found else None
            time.sleep(0.05)
        process.send_signal(how)
        process.wait(10)
        ended = time.monotonic()
        while alive(renderer) and time.monotonic() - ended < 5:
            time.sleep(0.05)
        assert not alive(renderer), f"the renderer outlived llm-tui ({how.name})"
        assert time.monotonic() - ended < 2.0
    finally:
        process.kill()
        process.wait()
