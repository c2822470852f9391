"""Hand-made GGUF files for the hostile corpus: broken headers, and SmolLM2 with another template."""

from __future__ import annotations

import struct
from pathlib import Path

MAGIC = b"GGUF"
STRING, ARRAY, UINT32 = 8, 9, 4


def _str(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def header(kvs: bytes, n_kv: int, version: int = 3, n_tensors: int = 0) -> bytes:
    return MAGIC + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs


def kv_string(key: str, value: bytes) -> bytes:
    return _str(key.encode()) + struct.pack("<I", STRING) + _str(value)


def hostile_headers() -> dict[str, bytes]:
    """Each a file that once gave a traceback, a hang or a MemoryError."""
    huge_string = _str(b"general.name") + struct.pack("<I", STRING) + struct.pack("<Q", 2**63) + b"x"
    past_end = _str(b"general.name") + struct.pack("<I", STRING) + struct.pack("<Q", 10_000) + b"short"
    huge_array = _str(b"tokenizer.ggml.scores") + struct.pack("<IIQ", ARRAY, 6, 2**40) + b"\0" * 64
    nested = _str(b"deep") + struct.pack("<I", ARRAY) + struct.pack("<IQ", ARRAY, 1) * 5000
    nested += struct.pack("<IQ", UINT32, 0)
    huge_key = struct.pack("<Q", 2**62) + b"k"
    return {
        "string-length-2-63": header(huge_string, 1),
        "string-past-the-end": header(past_end, 1),
        "array-2-40-elements": header(huge_array, 1),
        "arrays-nested-5000-deep": header(nested, 1),
        "key-length-2-62": header(huge_key, 1),
        "n-kv-2-60": header(b"", 2**60),
        "bad-magic": b"GGUX" + b"\0" * 100,
        "truncated": MAGIC + b"\3\0",
        "text-file": b"this is not a model\n" * 10,
        "version-99": header(b"", 0, version=99),
        "unknown-type": header(_str(b"k") + struct.pack("<I", 77) + b"\0" * 16, 1),
    }


def _read_string(data: bytes, pos: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from("<Q", data, pos)
    return data[pos + 8 : pos + 8 + length], pos + 8 + length


_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _skip_value(data: bytes, pos: int, kind: int) -> int:
    if kind in _SIZES:
        return pos + _SIZES[kind]
    if kind == STRING:
        return _read_string(data, pos)[1]
    item, count = struct.unpack_from("<IQ", data, pos)
    pos += 12
    for _ in range(count):
        pos = _skip_value(data, pos, item)
    return pos


def with_template(source: Path, target: Path, template: str) -> Path:
    """A copy of a real GGUF whose ``tokenizer.chat_template`` is ``template`` (weights untouched)."""
    return with_keys(
        source, target, {"tokenizer.chat_template": kv_string("tokenizer.chat_template", template.encode())}
    )


def kv_u32(key: str, value: int) -> bytes:
    return _str(key.encode()) + struct.pack("<II", UINT32, value)


def with_keys(source: Path, target: Path, replaced: dict[str, bytes]) -> Path:
    """A copy of a real GGUF with the key/value records in ``replaced`` (key -> whole record)."""
    data = source.read_bytes()
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos, out_kvs, alignment = 24, [], 32
    for _ in range(n_kv):
        start = pos
        key, pos = _read_string(data, pos)
        (kind,) = struct.unpack_from("<I", data, pos)
        end = _skip_value(data, pos + 4, kind)
        if key == b"general.alignment":
            (alignment,) = struct.unpack_from("<I", data, pos + 4)
        if key.decode() in replaced:
            out_kvs.append(replaced[key.decode()])
        else:
            out_kvs.append(data[start:end])
        pos = end
    infos_start = pos
    for _ in range(n_tensors):
        _, pos = _read_string(data, pos)
        (n_dims,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * n_dims + 4 + 8
    infos = data[infos_start:pos]
    old_data = pos + (-pos % alignment)
    head = MAGIC + struct.pack("<IQQ", version, n_tensors, n_kv) + b"".join(out_kvs) + infos
    head += b"\0" * (-len(head) % alignment)
    target.write_bytes(head + data[old_data:])
    return target
