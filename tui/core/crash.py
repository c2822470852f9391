"""Crash reports: when something unforeseen breaks, keep the full story in a file and say where.

The terminal gets one line and a non-zero exit status; the report (traceback, versions, the command)
goes to the data folder, or the temp folder when that cannot be written. Secrets never go in: the
values of environment variables that look like keys or tokens are blanked out of the text.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tui.paths import get_paths

EXIT_CRASH = 70
"""``EX_SOFTWARE`` from sysexits.h: an internal error, distinct from 1 (a problem the user can fix)."""
_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
REDACTED = "[redacted]"


_KNOWN: set[str] = set()
"""Secrets in use whatever their variable is called (a server's API key from ``api_key_env``)."""


def keep_secret(value: str) -> None:
    """Never write ``value`` into a report, whatever it is called where it came from."""
    if value:
        _KNOWN.add(value)


def secrets() -> list[str]:
    """Values that must never be written down: secret-looking environment variables, the hub token,
    and the secrets registered with `keep_secret`."""
    found = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6] + list(_KNOWN)
    token_file = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "token"
    try:
        token = token_file.read_text(encoding="utf-8").strip()[:4096]
    except (OSError, UnicodeDecodeError):
        token = ""
    if len(token) >= 6:
        found.append(token)
    return sorted(set(found), key=len, reverse=True)


def redact(text: str) -> str:
    for secret in secrets():
        text = text.replace(secret, REDACTED)
    return text


def report_text(exc: BaseException) -> str:
    from tui import __version__

    lines = [
        f"llm-tui {__version__} crash report, {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"command: {' '.join(sys.argv)}",
        f"python {platform.python_version()} on {platform.platform()}",
        "",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ]
    return redact("\n".join(line.rstrip("\n") for line in lines) + "\n")


def write_report(exc: BaseException) -> Path | None:
    """Write the report where it can be written; None if nowhere could take it."""
    text = report_text(exc)
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (get_paths().data / "crash", Path(tempfile.gettempdir())):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()  # half a report (a full disk) is no report: try the next folder
            continue
    return None


def one_line(exc: BaseException, report: Path | None) -> str:
    where = f"the full report is in {report}" if report else "no report could be written (disk full?)"
    message = redact(str(exc).splitlines()[0] if str(exc) else "")
    return f"llm-tui: internal error: {type(exc).__name__}: {message}; {where}"
