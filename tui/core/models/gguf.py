"""Read a GGUF file's metadata without loading its weights.

Used before a model loads (to choose a context size, to show the chat template and trained context)
and for files that may never be loaded at all, including files from the hub nobody has checked. So the
reader trusts nothing in the header: every length is bounded by what is left of the file, arrays by
an element budget, nesting by a depth limit, and any failure is one `GGUFError` naming the file.

Why not ``gguf.GGUFReader`` (the gguf package from llama.cpp): it memory-maps the file and builds
numpy views of every tensor, an extra dependency, and it has no limits against a hostile header.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tui.core.problems import ProblemError
from tui.core.safe_read import UnreadableFile, open_regular

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

MAX_DEPTH = 4
"""Arrays of arrays, at most this deep (real files use one level)."""
MAX_ITEMS = 3_000_000
"""Values in one header, fixed-size ones included: the largest real vocabularies (262k tokens with
their merges, scores and types) hold about 1.1 million."""
MAX_STRING = 64 << 20
"""One string's bytes: a chat template is kilobytes, a token a few bytes."""
MAX_KEYS = 1_000_000
MAX_INNER_ARRAYS = 65_536
"""Arrays inside arrays, in all: no real file has any, and each costs a walk of its own."""
HEADER_LIMIT = 64 << 20
"""Bytes of the whole header (metadata and tensor list): real ones are under 16 MiB, and llama.cpp
reads all of it into memory before the weights (a 1 GB array cost it 5 GB)."""
CHUNK = 1 << 20
"""Bytes read at a time: the header is parsed from memory, not a read call per value."""

_U64 = struct.Struct("<Q")


class GGUFError(ProblemError):
    """The file is not a GGUF we can read; the message says what was wrong and where."""


class _Limited(Exception):
    """A header value broke one of the limits: treated as a corrupt file."""


class _Reader:
    """The file read in chunks, with its size and budgets (bytes, values), so nothing in the
    header can run away in time or memory whatever sizes it declares."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.size, self.items, self.inner = f, size, 0, 0
        self.buf, self.at, self.base = b"", 0, f.tell()
        """``buf`` holds the file's bytes from offset ``base``; ``at`` is the next unread one."""

    def tell(self) -> int:
        return self.base + self.at

    def left(self) -> int:
        return self.size - self.tell()

    def _need(self, n: int) -> None:
        if self.at + n <= len(self.buf):
            return
        end = self.tell() + n
        if end > self.size:
            raise _Limited("unexpected end of file")
        if end > HEADER_LIMIT:
            raise _Limited(f"the header is longer than {HEADER_LIMIT >> 20} MiB")
        rest = self.buf[self.at :]
        self.f.seek(self.base + len(self.buf))
        self.base, self.at = self.tell(), 0
        self.buf = rest + self.f.read(max(n - len(rest), CHUNK))
        if len(self.buf) < n:
            raise _Limited("unexpected end of file")

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        packer = _struct(fmt)
        self._need(packer.size)
        values = packer.unpack_from(self.buf, self.at)
        self.at += packer.size
        return values

    def skip(self, count: int) -> None:
        if self.at + count <= len(self.buf):
            self.at += count
            return
        end = self.tell() + count
        if count > self.left():
            raise _Limited("a length points past the end of the file")
        if end > HEADER_LIMIT:
            raise _Limited(f"the header is longer than {HEADER_LIMIT >> 20} MiB")
        self.buf, self.at, self.base = b"", 0, end

    def length(self, what: str) -> int:
        (length,) = self.unpack("<Q")
        if length > self.left() or length > MAX_STRING:
            raise _Limited(f"{what} of {length:,} bytes is longer than the file allows")
        return int(length)

    def raw(self, n: int) -> bytes:
        self._need(n)
        data = self.buf[self.at : self.at + n]
        self.at += n
        return data

    def string(self) -> str:
        return self.raw(self.length("a string")).decode("utf-8")

    def count(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise _Limited(f"more than {MAX_ITEMS:,} values in the header")

    def skip_strings(self, count: int, keep: set[int] | None = None) -> dict[int, str]:
        """Walk an array of ``count`` strings from memory, keeping those whose index is in ``keep``
        (the vocabulary's 49k-262k tokens: a read call per token cost ~0.2 s a start)."""
        self.count(count)
        kept: dict[int, str] = {}
        unpack = _U64.unpack_from
        for index in range(count):
            if self.at + 8 > len(self.buf):
                self._need(8)
            (n,) = unpack(self.buf, self.at)
            self.at += 8
            if keep is not None and index in keep:
                self.at -= 8
                kept[index] = self.string()
            elif self.at + n <= len(self.buf):
                self.at += n
            elif n > MAX_STRING:
                raise _Limited(f"a string of {n:,} bytes is longer than the file allows")
            else:
                self.skip(n)
        if self.tell() > HEADER_LIMIT:
            raise _Limited(f"the header is longer than {HEADER_LIMIT >> 20} MiB")
        return kept


_STRUCTS: dict[str, struct.Struct] = {}


def _struct(fmt: str) -> struct.Struct:
    found = _STRUCTS.get(fmt)
    if found is None:
        found = _STRUCTS[fmt] = struct.Struct(fmt)
    return found


def read_metadata(path: Path, pick_tokens: set[int] | None = None) -> dict[str, Any]:
    """All key/value metadata; arrays longer than ``ARRAY_KEEP_LIMIT`` become their length.

    With ``pick_tokens``, the vocabulary becomes a dict of just those token ids and their text.
    """
    try:
        with open_regular(path) as f:
            reader = _Reader(f, os.fstat(f.fileno()).st_size)
            if reader.size < 4 or reader.raw(4) != MAGIC:
                raise GGUFError(f"{path}: not a GGUF file (bad magic)")
            (version,) = reader.unpack("<I")
            if not 2 <= version <= 3:
                raise GGUFError(f"{path}: GGUF version {version} is not one llm-tui reads (2 or 3)")
            _n_tensors, n_kv = reader.unpack("<QQ")
            if n_kv > MAX_KEYS or n_kv * 13 > reader.left():
                raise _Limited(f"{n_kv:,} metadata keys do not fit in the file")
            meta: dict[str, Any] = {"GGUF.version": version}
            for _ in range(n_kv):
                key = reader.string()
                (kind,) = reader.unpack("<I")
                if key == TOKENS and pick_tokens and kind == _ARRAY:
                    meta[key] = _pick_strings(reader, pick_tokens)
                else:
                    meta[key] = _read_value(reader, kind, 0)
            return meta
    except _Limited as exc:
        raise GGUFError(f"{path}: truncated or corrupt GGUF header: {exc}") from exc
    except (struct.error, UnicodeDecodeError, OverflowError, ValueError, MemoryError) as exc:
        raise GGUFError(f"{path}: truncated or corrupt GGUF header ({exc})") from exc
    except FileNotFoundError as exc:
        raise GGUFError(f"{path}: no such file") from exc
    except UnreadableFile as exc:
        raise GGUFError(str(exc)) from exc
    except OSError as exc:
        raise GGUFError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _read_value(r: _Reader, kind: int, depth: int) -> Any:
    r.count()
    if kind in _SCALARS:
        return r.unpack(_SCALARS[kind])[0]
    if kind == _STRING:
        return r.string()
    if kind == _ARRAY:
        if depth >= MAX_DEPTH:
            raise _Limited(f"arrays nested deeper than {MAX_DEPTH}")
        item_kind, count = r.unpack("<IQ")
        _check_count(r, item_kind, count)
        if item_kind == _ARRAY:
            r.inner += count
            if r.inner > MAX_INNER_ARRAYS:
                raise _Limited(f"more than {MAX_INNER_ARRAYS:,} arrays inside arrays")
        if count > ARRAY_KEEP_LIMIT:
            _skip_array(r, item_kind, count, depth + 1)
            return count
        return [_read_value(r, item_kind, depth + 1) for _ in range(count)]
    raise _Limited(f"unknown value type {kind}")


def _check_count(r: _Reader, item_kind: int, count: int) -> None:
    """An array's element count must fit in the rest of the file at its smallest item size."""
    smallest = struct.calcsize(_SCALARS[item_kind]) if item_kind in _SCALARS else 8
    if count * smallest > r.left():
        raise _Limited(f"an array of {count:,} elements does not fit in the file")


def _skip_array(r: _Reader, item_kind: int, count: int, depth: int) -> None:
    if item_kind in _SCALARS:
        r.count(count)
        r.skip(struct.calcsize(_SCALARS[item_kind]) * count)
    elif item_kind == _STRING:
        r.skip_strings(count)
    else:
        for _ in range(count):
            _read_value(r, item_kind, depth)


def _pick_strings(r: _Reader, wanted: set[int]) -> dict[int, str]:
    item_kind, count = r.unpack("<IQ")
    _check_count(r, item_kind, count)
    if item_kind != _STRING:
        _skip_array(r, item_kind, count, 1)
        return {}
    return r.skip_strings(count, wanted)


def _int(meta: dict[str, Any], key: str) -> int | None:
    value = meta.get(key)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def architecture(meta: dict[str, Any]) -> str:
    value = meta.get("general.architecture")
    return value if isinstance(value, str) and value else "unknown"


def trained_context(meta: dict[str, Any]) -> int | None:
    value = _int(meta, f"{architecture(meta)}.context_length")
    return value if value and value > 0 else None


def block_count(meta: dict[str, Any]) -> int | None:
    value = _int(meta, f"{architecture(meta)}.block_count")
    return value if value and value > 0 else None


def special_tokens(path: Path) -> dict[str, tuple[int, str]]:
    """The model's special tokens (bos, eos, …) as id and text, read from the header alone."""
    meta = read_metadata(path)
    ids = {name: _int(meta, f"tokenizer.ggml.{name}_token_id") for name in SPECIAL_IDS}
    wanted = {v for v in ids.values() if v is not None}
    texts = read_metadata(path, pick_tokens=wanted).get(TOKENS, {}) if wanted else {}
    return {name: (v, texts.get(v, "?")) for name, v in ids.items() if v is not None}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    kind: int
    """ggml type (0: F32)."""
    elements: int
    offset: int
    """Bytes from the start of the file."""


MAX_TENSORS = 100_000
"""Tensors in one file: real models have a few thousand."""
MAX_DIMS = 4


def tensor_layout(path: Path) -> dict[str, TensorInfo]:
    """Each tensor's name, type, element count and absolute offset, read from the header.

    For files llm-tui writes itself (the weights a teaching run changes): the same limits as
    `read_metadata` apply, so a damaged file is a `GGUFError`, never a runaway read.
    """
    try:
        with open_regular(path) as f:
            reader = _Reader(f, os.fstat(f.fileno()).st_size)
            if reader.size < 4 or reader.raw(4) != MAGIC:
                raise GGUFError(f"{path}: not a GGUF file (bad magic)")
            reader.unpack("<I")
            n_tensors, n_kv = reader.unpack("<QQ")
            if n_kv > MAX_KEYS or n_tensors > MAX_TENSORS:
                raise _Limited(f"{n_kv:,} keys and {n_tensors:,} tensors are more than a model has")
            alignment = 32
            for _ in range(n_kv):
                key = reader.string()
                (kind,) = reader.unpack("<I")
                value = _read_value(reader, kind, 0)
                if key == "general.alignment" and isinstance(value, int) and 0 < value <= 1 << 16:
                    alignment = value
            found: list[tuple[str, int, int, int]] = []
            for _ in range(n_tensors):
                name = reader.string()
                (dims,) = reader.unpack("<I")
                if not 0 < dims <= MAX_DIMS:
                    raise _Limited(f"tensor {name!r} has {dims} dimensions")
                elements = 1
                for _dim in range(dims):
                    elements *= reader.unpack("<Q")[0]
                kind, offset = reader.unpack("<IQ")
                found.append((name, kind, elements, offset))
            start = -(-reader.tell() // alignment) * alignment
            return {name: TensorInfo(name, kind, n, start + offset) for name, kind, n, offset in found}
    except _Limited as exc:
        raise GGUFError(f"{path}: truncated or corrupt GGUF header: {exc}") from exc
    except (struct.error, UnicodeDecodeError, OverflowError, ValueError) as exc:
        raise GGUFError(f"{path}: truncated or corrupt GGUF header ({exc})") from exc
    except OSError as exc:
        raise GGUFError(f"{path}: cannot read ({exc.strerror or exc})") from exc
