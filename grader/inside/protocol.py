"""The narrow channel between the trusted grader and a submission's sandboxed worker.

A message is plain data (dicts with string keys, lists, str, int, float, bool, None) plus
tensors. Tensors travel as raw bytes with a dtype and shape; nothing is ever pickled, so
whatever the worker sends, the grader only ever gets plain values and fresh tensors back.

Frame layout: MAGIC, u32 header length, u64 payload length, JSON header, tensor payload.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

import torch

MAGIC = b"CNNK"
_HEAD = struct.Struct(">4sIQ")
MAX_HEADER = 8 << 20
MAX_PAYLOAD = 512 << 20
MAX_DEPTH = 32
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
TENSOR_KEY = "__tensor__"


class ProtocolError(Exception):
    """A frame was malformed, too large or cut short."""


class ChannelClosed(ProtocolError):
    """The other side closed the channel."""


def encode(message: Any) -> bytes:
    """Serialise plain data and tensors into one frame."""
    chunks: list[bytes] = []
    offset = 0

    def walk(value: Any, depth: int) -> Any:
        nonlocal offset
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        if isinstance(value, torch.Tensor):
            tensor = value.detach().to("cpu").contiguous()
            if tensor.dtype not in _NAMES:
                tensor = tensor.to(torch.float64 if tensor.is_floating_point() else torch.int64)
            raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
            chunks.append(raw)
            entry = {TENSOR_KEY: [_NAMES[tensor.dtype], list(tensor.shape), offset, len(raw)]}
            offset += len(raw)
            return entry
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, (list, tuple)):
            return [walk(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {str(k): walk(v, depth + 1) for k, v in value.items()}
        if isinstance(value, torch.Size):
            return list(value)
        raise ProtocolError(f"cannot send a {type(value).__name__}")

    header = json.dumps(walk(message, 0), separators=(",", ":")).encode()
    payload = b"".join(chunks)
    if len(header) > MAX_HEADER or len(payload) > MAX_PAYLOAD:
        raise ProtocolError("message too large")
    return _HEAD.pack(MAGIC, len(header), len(payload)) + header + payload


def decode(header: bytes, payload: bytes) -> Any:
    """Rebuild plain data and fresh tensors from a frame's parts."""
    try:
        tree = json.loads(header)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"bad header: {exc}") from None

    def walk(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        if isinstance(value, list):
            return [walk(v, depth + 1) for v in value]
        if isinstance(value, dict):
            if TENSOR_KEY in value:
                return _tensor(value[TENSOR_KEY], payload)
            if set(value) == {"__float__"}:
                return float(value["__float__"])
            return {k: walk(v, depth + 1) for k, v in value.items()}
        return value

    return walk(tree, 0)


def _tensor(spec: Any, payload: bytes) -> torch.Tensor:
    try:
        name, shape, start, size = spec
        dtype = DTYPES[name]
        shape = [int(d) for d in shape]
        start, size = int(start), int(size)
    except (ValueError, TypeError, KeyError):
        raise ProtocolError("bad tensor descriptor") from None
    count = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if any(d < 0 for d in shape) or count * itemsize != size or start < 0 or start + size > len(payload):
        raise ProtocolError("tensor bytes do not match their descriptor")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    raw = bytearray(payload[start : start + size])
    return torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape).clone()


def write_message(stream: BinaryIO, message: Any) -> None:
    """Send one frame and flush."""
    stream.write(encode(message))
    stream.flush()


def read_message(stream: BinaryIO) -> Any:
    """Receive one frame; raise ChannelClosed at end of stream."""
    head = _read_exactly(stream, _HEAD.size)
    magic, header_len, payload_len = _HEAD.unpack(head)
    if magic != MAGIC or header_len > MAX_HEADER or payload_len > MAX_PAYLOAD:
        raise ProtocolError("bad frame header")
    header = _read_exactly(stream, header_len)
    payload = _read_exactly(stream, payload_len)
    return decode(header, payload)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise ChannelClosed("channel closed")
        data += chunk
    return bytes(data)
