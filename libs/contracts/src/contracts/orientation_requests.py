"""The reorientation requests to handle (issue 20 item 8): an orientation manager's or a manager's list of the
requests still waiting for a decision in their territory, oldest first, each leading to the notebook where it is
decided (« Réorienter » or « Maintenir l'accompagnement »).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Offset
from contracts.registry import register


class OpenReorientationRequest(WireModel):
    request_id: uuid.UUID
    notebook_id: uuid.UUID
    firstname: str
    lastname: str
    requested_at: datetime
    requested_by_name: str = ""
    requested_orientation_system_name: str = ""
    current_orientation_system_name: str = ""
    reason: str = ""


class OpenReorientationRequestsReply(RpcReply):
    requests: list[OpenReorientationRequest]
    total: int


@register
class ListOpenReorientationRequestsV1(RpcRequest):
    """The pending reorientation requests of the caller's territory, oldest first (those who may orient only)."""

    subject: ClassVar[str] = "rpc.notebook.list_open_reorientation_requests.v1"
    reply_model: ClassVar = OpenReorientationRequestsReply

    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=100)
