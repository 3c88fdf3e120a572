"""docs/protocol.md stays true: every example decodes as the message it documents."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from meeting.agenda.schemas import ParticipantRemoved
from meeting.rooms.schemas import AnnotationAdd, ClientMessage, ServerMessage, annotation_payload

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BLOCKS = re.findall(r"```json (client|server)\n(.*?)\n```", DOC.read_text(), re.S)
Forwarded = ServerMessage | ParticipantRemoved


def test_doc_has_examples_for_every_message_type() -> None:
    client = {msgspec.json.decode(body)["type"] for side, body in BLOCKS if side == "client"}
    server = {msgspec.json.decode(body)["type"] for side, body in BLOCKS if side == "server"}
    client_types = {t.__struct_config__.tag for t in ClientMessage.__args__}
    server_types = {t.__struct_config__.tag for t in ServerMessage.__args__}
    assert client_types <= client, f"client messages without an example: {client_types - client}"
    assert server_types <= server, f"server messages without an example: {server_types - server}"


@pytest.mark.parametrize(("side", "body"), BLOCKS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(BLOCKS)])
def test_doc_example_decodes(side: str, body: str) -> None:
    decoded = msgspec.json.decode(body, type=ClientMessage if side == "client" else Forwarded)
    assert decoded.__struct_config__.tag == msgspec.json.decode(body)["type"]


@pytest.mark.parametrize(("side", "body"), BLOCKS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(BLOCKS)])
def test_doc_annotation_payloads_have_their_kinds_shape(side: str, body: str) -> None:
    decoded = msgspec.json.decode(body, type=ClientMessage if side == "client" else Forwarded)
    annotation = decoded if isinstance(decoded, AnnotationAdd) else getattr(decoded, "annotation", None)
    if annotation is not None and not getattr(annotation, "deleted", False):
        annotation_payload(annotation.kind, annotation.payload)


def test_doc_lists_every_close_code() -> None:
    text = DOC.read_text()
    for code in (4401, 4403, 4404, 4409, 4429, 1012):
        assert f"| {code} |" in text
