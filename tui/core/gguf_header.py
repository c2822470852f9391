"""Read a GGUF file's metadata without loading its weights.

Used before a model loads (to choose a context size, to show the chat template and trained context)
and for files that may never be loaded at all. Large arrays (the vocabulary) are skipped, not kept.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
ARRAY_KEEP_LIMIT = 64
TOKENS = "tokenizer.ggml.tokens"
SPECIAL_IDS = ("bos", "eos", "eot", "eom", "unknown", "padding", "sep")


class GGUFError(Exception):
    """The file is not a GGUF we can read; the message says what was wrong and where."""


def read_metadata(path: Path, pick_tokens: set[int] | None = None) -> dict[str, Any]:
    """All key/value metadata; arrays longer than ``ARRAY_KEEP_LIMIT`` become their length.

    With ``pick_tokens``, the vocabulary becomes a dict of just those token ids and their text.
    """
    try:
        with path.open("rb") as f:
            if f.read(4) != MAGIC:
                raise GGUFError(f"{path}: not a GGUF file (bad magic)")
            (version,) = _unpack(f, "<I")
            if version < 2:
                raise GGUFError(f"{path}: GGUF version {version} is too old")
            _n_tensors, n_kv = _unpack(f, "<QQ")
            meta: dict[str, Any] = {"GGUF.version": version}
            for _ in range(n_kv):
                key = _read_string(f)
                (kind,) = _unpack(f, "<I")
                if key == TOKENS and pick_tokens and kind == _ARRAY:
                    meta[key] = _pick_strings(f, pick_tokens)
                else:
                    meta[key] = _read_value(f, kind)
            return meta
    except (struct.error, UnicodeDecodeError) as exc:
        raise GGUFError(f"{path}: truncated or corrupt GGUF header ({exc})") from exc
    except OSError as exc:
        raise GGUFError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _unpack(f: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise struct.error("unexpected end of file")
    return struct.unpack(fmt, data)


def _read_string(f: BinaryIO) -> str:
    (length,) = _unpack(f, "<Q")
    data = f.read(length)
    if len(data) != length:
        raise struct.error("unexpected end of file in a string")
    return data.decode("utf-8")


def _read_value(f: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _unpack(f, _SCALARS[kind])[0]
    if kind == _STRING:
        return _read_string(f)
    if kind == _ARRAY:
        item_kind, count = _unpack(f, "<IQ")
        if count > ARRAY_KEEP_LIMIT:
            _skip_array(f, item_kind, count)
            return count
        return [_read_value(f, item_kind) for _ in range(count)]
    raise struct.error(f"unknown value type {kind}")


def _skip_array(f: BinaryIO, item_kind: int, count: int) -> None:
    if item_kind in _SCALARS:
        f.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
    elif item_kind == _STRING:
        for _ in range(count):
            (length,) = _unpack(f, "<Q")
            f.seek(length, 1)
    else:
        for _ in range(count):
            _read_value(f, item_kind)


def architecture(meta: dict[str, Any]) -> str:
    return str(meta.get("general.architecture", "unknown"))


def trained_context(meta: dict[str, Any]) -> int | None:
    value = meta.get(f"{architecture(meta)}.context_length")
    return int(value) if isinstance(value, int) else None


def block_count(meta: dict[str, Any]) -> int | None:
    value = meta.get(f"{architecture(meta)}.block_count")
    return int(value) if isinstance(value, int) else None


def _pick_strings(f: BinaryIO, wanted: set[int]) -> dict[int, str]:
    item_kind, count = _unpack(f, "<IQ")
    if item_kind != _STRING:
        _skip_array(f, item_kind, count)
        return {}
    picked: dict[int, str] = {}
    for index in range(count):
        if index in wanted:
            picked[index] = _read_string(f)
        else:
            (length,) = _unpack(f, "<Q")
            f.seek(length, 1)
    return picked


def special_tokens(path: Path) -> dict[str, tuple[int, str]]:
    """The model's special tokens (bos, eos, …) as id and text, read from the header alone."""
    meta = read_metadata(path)
    ids = {name: meta.get(f"tokenizer.ggml.{name}_token_id") for name in SPECIAL_IDS}
    wanted = {v for v in ids.values() if isinstance(v, int)}
    texts = read_metadata(path, pick_tokens=wanted).get(TOKENS, {}) if wanted else {}
    return {name: (v, texts.get(v, "?")) for name, v in ids.items() if isinstance(v, int)}
