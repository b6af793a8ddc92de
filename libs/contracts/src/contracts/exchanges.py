"""Exchanges between professionals: one thread per notebook among the members of its group. The beneficiary sees
only the messages marked shared with her and may answer one of them (her answer is read by the group and by her);
a message may mention members (each gets an email through notify,
following their digest choice) or put a question to one of them (another structure's référent, say).

Messages are free text, stored encrypted by the notebook; the event carries who is told, never the text.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import RpcReply, RpcRequest, WireModel
from contracts.inputs import Text
from contracts.notebook import NotebookEvent
from contracts.notify import Channel
from contracts.registry import register

MAX_EXCHANGE_LENGTH = 4000
MAX_MENTIONS = 50
# Shown next to the text box (v1 warned the same way on its free-text fields).
SENSITIVE_WARNING = ("Ne mentionnez pas d'informations de santé ou sensibles (situation médicale, handicap, "
                     "opinions, vie intime) : ces échanges sont lus par tous les membres du groupe de suivi.")


class ExchangeMember(WireModel):
    """A member of the group one may mention or put a question to."""

    person_id: uuid.UUID
    name: str
    structure_name: str = ""
    referent: bool = False


class ExchangeView(WireModel):
    exchange_id: uuid.UUID
    author_name: str
    author_structure: str = ""
    created_at: datetime
    text: str
    shared_with_beneficiary: bool = False
    addressed_to_name: str = ""  # a question put to this member
    mentioned_names: list[str] = Field(default_factory=list)
    mine: bool = False
    unread: bool = False
    by_beneficiary: bool = False  # the beneficiary's answer to a message shared with her
    reply_to: uuid.UUID | None = None  # the message it answers


class ExchangesReply(RpcReply):
    notebook_id: uuid.UUID
    beneficiary_name: str = ""  # « Prénom Nom », for the page's breadcrumbs
    # Oldest first. A member reads them all; the beneficiary only those shared with her.
    messages: list[ExchangeView] = Field(default_factory=list)
    members: list[ExchangeMember] = Field(default_factory=list)  # whom the caller may mention (not herself)
    unread: int = 0  # unread before this view (a view that marks them read)
    allowed: list[str] = Field(default_factory=list)
    warning: str = SENSITIVE_WARNING


class ExchangePostedReply(RpcReply):
    exchange_id: uuid.UUID
    mentioned: int = 0  # how many members are told


@register
class ListExchangesV1(RpcRequest):
    """The thread of a notebook (the beneficiary omitting the id: her own, shared messages only). ``mark_read``:
    the member's "read up to" marker moves to the newest message (viewing the thread)."""

    subject: ClassVar[str] = "rpc.notebook.list_exchanges.v1"
    reply_model: ClassVar = ExchangesReply

    notebook_id: uuid.UUID | None = None
    mark_read: bool = True


@register
class PostExchangeV1(RpcRequest):
    """A member writes in the thread; ``mentions`` and ``addressed_to`` are members of the group (persons' ids),
    and so are the ``@Prénom Nom`` written in the text."""

    subject: ClassVar[str] = "rpc.notebook.post_exchange.v1"
    reply_model: ClassVar = ExchangePostedReply

    notebook_id: uuid.UUID
    text: Text = Field(max_length=MAX_EXCHANGE_LENGTH)
    shared_with_beneficiary: bool = False
    mentions: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MENTIONS)
    addressed_to: uuid.UUID | None = None


@register
class ReplyExchangeV1(RpcRequest):
    """The beneficiary answers a message shared with her: her answer is shared with her and read by the group (the
    message's author is told). A message she may not see is, for her, no message at all."""

    subject: ClassVar[str] = "rpc.notebook.reply_exchange.v1"
    reply_model: ClassVar = ExchangePostedReply

    exchange_id: uuid.UUID
    text: Text = Field(max_length=MAX_EXCHANGE_LENGTH)


class ExchangeRecipient(WireModel):
    email: str
    firstname: str = ""
    addressed: bool = False  # a question put to them, not only a mention


@register
class ExchangePostedV1(NotebookEvent):
    """A message in a notebook's thread. Without its text (free text may say more than it should): the members
    told follow the link to read it once signed in."""

    subject: ClassVar[str] = "notebook.exchange.posted.v1"

    exchange_id: uuid.UUID
    author_name: str = ""
    shared_with_beneficiary: bool = False
    recipients: list[ExchangeRecipient] = Field(default_factory=list)
    by_beneficiary: bool = False  # her answer: the recipients hear that she answered
    reply_to: uuid.UUID | None = None
    # A professional's message shared with the beneficiary: she is told on the channels she chose (by default SMS,
    # or email without a mobile), that there is a new message and where, never what it says.
    beneficiary_phone: str = ""
    beneficiary_email: str = ""
    beneficiary_channels: list[Channel] = Field(default_factory=list)
