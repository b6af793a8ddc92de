"""Orientation in bulk (issue 17 item 4): from the beneficiaries' list, an orientation manager or a manager orients
up to 500 notebooks in one decision (orientation system, structure, optional référent). Each notebook is decided as
"Orienter" decides one (the same rules, one history entry and one ``notebook.orientation.changed.v1`` each) and
answered on its own: done, or refused and why.
"""
from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel
from contracts.inputs import Text
from contracts.notebook import OrientationOptions
from contracts.registry import register

MAX_BULK_ORIENTATION = 500


def _at_most_500(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(ids) > MAX_BULK_ORIENTATION:
        raise PydanticCustomError("too_many_notebooks", "at most {max} notebooks",
                                  {"max": MAX_BULK_ORIENTATION, "count": len(ids)})
    return ids


# More than 500 is refused with its own French message (contracts.inputs); far more is not even read.
NotebookSelection = Annotated[list[uuid.UUID], Field(min_length=1, max_length=5000), AfterValidator(_at_most_500)]


class BulkOrientationStatus(StrEnum):
    done = "done"
    refused = "refused"


class BulkOrientationResult(WireModel):
    """One notebook's outcome. Names only for a notebook the caller may see (never for one out of their scope)."""

    notebook_id: uuid.UUID
    status: BulkOrientationStatus
    reason: str = ""  # why it was refused, in French
    firstname: str = ""
    lastname: str = ""


class BulkOrientationReply(RpcReply):
    results: list[BulkOrientationResult]
    done: int
    refused: int


@register
class OrientInBulkV1(RpcRequest):
    """One orientation decision for up to 500 notebooks (orientation manager, manager); each one in the caller's
    scope is oriented as "Orienter" would, the others are refused with the reason."""

    subject: ClassVar[str] = "rpc.notebook.orient_in_bulk.v1"
    reply_model: ClassVar = BulkOrientationReply

    notebook_ids: NotebookSelection
    orientation_system_id: uuid.UUID
    structure_id: uuid.UUID
    referent_id: uuid.UUID | None = None
    reason: Text = Field(default="", max_length=2000)


class TerritoryOrientationOptionsReply(RpcReply):
    options: OrientationOptions


@register
class GetTerritoryOrientationOptionsV1(RpcRequest):
    """The caller's territory's orientation systems, structures and professionals, for the bulk decision's form
    (those who may orient only)."""

    subject: ClassVar[str] = "rpc.notebook.territory_orientation_options.v1"
    reply_model: ClassVar = TerritoryOrientationOptionsReply


@register
class BulkOrientationDecidedV1(IntegrationEvent):
    """A bulk decision once applied: its notebooks each had their ``notebook.orientation.changed.v1`` (carrying this
    ``decision_id``); the référent it chose is told once, with the count, rather than once per notebook."""

    subject: ClassVar[str] = "notebook.orientation.bulk_decided.v1"

    decision_id: uuid.UUID
    deployment_id: uuid.UUID
    decided_by_name: str = ""
    orientation_system_id: uuid.UUID
    orientation_system_name: str = ""
    structure_id: uuid.UUID
    structure_name: str = ""
    referent_id: uuid.UUID | None = None
    referent_email: str = ""
    referent_firstname: str = ""
    done: int
    refused: int
