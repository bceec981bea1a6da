"""The channel carries plain data and tensors only, and rejects malformed frames."""

from __future__ import annotations

import io
import struct

import pytest
import torch

from grader.inside import protocol


def roundtrip(message):
    stream = io.BytesIO(protocol.encode(message))
    return protocol.read_message(stream)


def test_tensors_and_plain_data_survive():
    message = {"x": torch.randn(3, 4), "n": 3, "ok": True, "s": "é", "none": None,
               "nested": [torch.arange(5), {"b": torch.tensor([True, False])}], "inf": float("inf")}
    back = roundtrip(message)
    assert torch.equal(back["x"], message["x"]) and back["x"].dtype == torch.float32
    assert torch.equal(back["nested"][0], torch.arange(5))
    assert back["nested"][1]["b"].tolist() == [True, False]
    assert back["n"] == 3 and back["ok"] is True and back["s"] == "é" and back["none"] is None
    assert back["inf"] == float("inf")


def test_odd_layouts_survive():
    weird = torch.randn(3, 1).as_strided((3, 1), (1, 7))
    back = roundtrip({"scalar": torch.tensor(2.5), "weird": weird, "t": torch.randn(4, 5).t()})
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert torch.equal(back["weird"], weird) and back["t"].shape == (5, 4)


def test_decoded_tensors_are_plain_fresh_tensors():
    class Sneaky(torch.Tensor):
        def __eq__(self, other):  # always "equal"
            return True

    value = torch.zeros(2).as_subclass(Sneaky)
    back = roundtrip({"v": value})["v"]
    assert type(back) is torch.Tensor


def test_objects_cannot_be_sent():
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"f": object()})


@pytest.mark.parametrize("frame", [
    b"XXXX" + struct.pack(">IQ", 2, 0) + b"{}",
    b"CNNK" + struct.pack(">IQ", 2, 0) + b"{",
    b"CNNK" + struct.pack(">IQ", 2, 0),
])
def test_malformed_frames_are_rejected(frame):
    with pytest.raises(protocol.ProtocolError):
        protocol.read_message(io.BytesIO(frame))


def test_tensor_descriptor_must_match_its_bytes():
    header = b'{"t":{"__tensor__":["float32",[4],0,8]}}'
    frame = b"CNNK" + struct.pack(">IQ", len(header), 8) + header + b"\0" * 8
    with pytest.raises(protocol.ProtocolError):
        protocol.read_message(io.BytesIO(frame))


def test_oversized_frames_are_refused_before_reading():
    frame = b"CNNK" + struct.pack(">IQ", protocol.MAX_HEADER + 1, 0)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_message(io.BytesIO(frame))
