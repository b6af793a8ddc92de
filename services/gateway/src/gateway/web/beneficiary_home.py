"""The beneficiary's home page at a glance: his next appointment, the messages shared with him, his CER and his
référent with how to reach her. Read from what /mon-carnet already asks (the notebook page's reply and the messages
shared with him) and worded as its summary band: no other question to the services."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from fastapi import Request

from contracts.notebook import GetNotebookPageV1, NotebookPage
from gateway.bus import call
from gateway.web.common import Visitor
from gateway.web.exchange_pages import exchange_section
from gateway.web.formatting import PARIS
from gateway.web.notebook_summary import SummaryItem, summary_band
from servicekit.errors import ServiceError

# The band's entries the home shows, in this order, and where each leads on the beneficiary's own pages.
SHOWN = {"appointment": "/mon-carnet#rendez-vous", "exchanges": "/mon-carnet/echanges",
         "cer": "/mon-carnet#contrats", "referent": "/mon-carnet#groupe"}


@dataclass(frozen=True)
class Contact:
    """How to reach the référent: her e-mail and phone as the group of the notebook shows them to him."""

    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class MyHome:
    items: list[SummaryItem]
    contact: Contact | None


async def my_home(request: Request, visitor: Visitor, *, now: datetime | None = None) -> MyHome | None:
    """None when his notebook cannot be read (none yet, a service away): the home shows its links all the same."""
    try:
        page = await call(request, GetNotebookPageV1(timeline_limit=1, past_appointments_limit=0),
                          access_token=visitor.token)
    except ServiceError:
        return None
    exchanges = await exchange_section(request, visitor, page.allowed, page.notebook_id)
    band = {item.key: item for item in summary_band(page, exchanges, mine=True, now=now or datetime.now(UTC))}
    if exchanges is not None and exchanges.messages and "exchanges" in band:
        latest = exchanges.messages[-1]  # oldest first
        band["exchanges"] = replace(band["exchanges"], detail=f"Le dernier le "
                                    f"{latest.created_at.astimezone(PARIS):%d/%m/%Y}, de {latest.author_name}")
    items = [replace(band[key], href=href) for key, href in SHOWN.items() if key in band]
    return MyHome(items, referent_contact(page))


def referent_contact(page: NotebookPage) -> Contact | None:
    referent = next((m.person for m in page.members if m.ended_at is None and m.member_type == "referent"), None)
    if referent is None or not (referent.email or referent.phone):
        return None
    return Contact(f"{referent.firstname} {referent.lastname.upper()}", referent.email, referent.phone)
