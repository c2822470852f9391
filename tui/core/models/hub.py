"""The Hugging Face hub, through huggingface_hub: file metadata, a repo's GGUF files, clear errors.

The endpoint, token and offline switch follow huggingface_hub's own conventions (``HF_ENDPOINT``,
``HF_TOKEN`` or a stored login, ``HF_HUB_OFFLINE``), read when they are used so tests can set them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from tui.core.problems import ProblemError

# huggingface_hub and httpx2 are imported where they are used: together they cost about 100 ms,
# which the first screen and `llm-tui --version` should not pay.

TRUE = {"1", "true", "yes", "on"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LOGIN_HINT = "log in with `hf auth login` or set HF_TOKEN"


class HubError(ProblemError):
    """Anything the hub said no to, or could not be asked; the message says what to do."""


class OfflineError(HubError):
    pass


def offline(flag: bool = False) -> bool:
    """``--offline`` or ``HF_HUB_OFFLINE``: then nothing here opens a connection."""
    return flag or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE


def endpoint() -> str:
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or constants.ENDPOINT


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    file: str
    revision: str
    url: str
    size: int
    sha256: str | None
    """The hub's LFS hash of the file (its ETag), when it is one."""
    commit: str | None


@dataclass(frozen=True)
class RepoFile:
    name: str
    size: int | None
    sha256: str | None


def remote_file(
    repo: str, file: str, revision: str | None = None, *, offline_flag: bool = False
) -> RemoteFile:
    """Where ``file`` is and what it should be: size, sha256, commit (one HEAD request)."""
    _refuse_offline(offline_flag, f"look up {repo}/{file}")
    rev = revision or "main"
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo, file, revision=rev, endpoint=endpoint())
    try:
        meta = get_hf_file_metadata(url, endpoint=endpoint())
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
        raise explain(exc, repo, file) from exc
    if meta.size is None:
        raise HubError(f"the hub did not say how large {repo}/{file} is")
    etag = (meta.etag or "").lower()
    return RemoteFile(
        repo,
        file,
        rev,
        meta.location or url,
        meta.size,
        etag if SHA256.match(etag) else None,
        meta.commit_hash,
    )


def gguf_files(repo: str, revision: str | None = None, *, offline_flag: bool = False) -> list[RepoFile]:
    """Every ``.gguf`` in the repo, with sizes and LFS hashes."""
    _refuse_offline(offline_flag, f"list the files of {repo}")
    try:
        from huggingface_hub import HfApi

        info = HfApi(endpoint=endpoint()).model_info(repo, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001
        raise explain(exc, repo, None) from exc
    found = []
    for sibling in info.siblings or []:
        if sibling.rfilename.lower().endswith(".gguf"):
            lfs: Any = sibling.lfs
            sha = getattr(lfs, "sha256", None) if lfs is not None else None
            found.append(RepoFile(sibling.rfilename, sibling.size, sha))
    return found


def _refuse_offline(flag: bool, what: str) -> None:
    if offline(flag):
        raise OfflineError(f"offline mode (--offline or HF_HUB_OFFLINE): cannot {what}")


def explain(exc: BaseException, repo: str, file: str | None) -> HubError:
    """One sentence for the user, from whatever huggingface_hub or the network raised."""
    import httpx2
    from huggingface_hub import errors as hub_errors

    where = f"{repo}/{file}" if file else repo
    if isinstance(exc, hub_errors.GatedRepoError):
        return HubError(f"{repo} is gated: accept its licence on the hub, then {LOGIN_HINT}")
    if isinstance(exc, hub_errors.RepositoryNotFoundError):
        return HubError(f"repository {repo} not found on {endpoint()} (if it is private, {LOGIN_HINT})")
    if isinstance(exc, hub_errors.RevisionNotFoundError):
        return HubError(f"revision not found in {repo}")
    if isinstance(exc, (hub_errors.RemoteEntryNotFoundError, hub_errors.EntryNotFoundError)):
        return HubError(f"{file} not found in {repo}")
    if isinstance(exc, hub_errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return HubError(f"not allowed to read {where} (HTTP {status}): {LOGIN_HINT}")
        if status is not None and status >= 500:
            return HubError(f"the hub failed on {where} (HTTP {status}, its side): try again later")
        return HubError(f"the hub refused {where} (HTTP {status})")
    if isinstance(exc, hub_errors.OfflineModeIsEnabled):
        return OfflineError(f"offline mode: cannot reach the hub for {where}")
    if isinstance(exc, (httpx2.TransportError, OSError)):
        return HubError(f"cannot reach {endpoint()} for {where}: no network? ({exc.__class__.__name__})")
    return HubError(f"{where}: {exc}")
