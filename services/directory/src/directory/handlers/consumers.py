"""Events of other services kept here: beneficiaries counted per territory, profile edits made at identity,
addresses and numbers notify could not deliver to."""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccountProfileChangedV1
from contracts.notify import Channel, MessageFailedV1
from contracts.profiles import BeneficiaryCreatedV1, BeneficiaryDeactivatedV1
from contracts.transfers import TransferAcceptedV1
from directory.adapters.orm import BeneficiarySeen, Person
from directory.handlers.deps import Deps
from directory.handlers.people import publish_person, search_text_of, set_contact
from directory.handlers.views import person_links
from servicekit.db import one_of
from servicekit.inbox import exactly_once

CONSUMER = "directory-read-models"


SEEN = "directory.beneficiaries_seen"  # the batch's beneficiaries already counted, read by ``read_seen``
NEW = "directory.beneficiaries_new"  # the batch's beneficiaries to count, inserted together by ``insert_seen``


async def read_seen(events: list[BeneficiaryCreatedV1], session: AsyncSession, _deps: Deps) -> None:
    """An import's thousands of events come in batches: which of their beneficiaries are counted already, in one
    query for the batch, instead of a query (and the flush of the previous event's row) per event."""
    ids = {event.profile_id for event in events}
    sqlite = session.bind.dialect.name == "sqlite"
    session.info[SEEN] = set((await session.scalars(select(BeneficiarySeen.profile_id).where(
        one_of(BeneficiarySeen.profile_id, ids, sqlite=sqlite)))).all()) if ids else set()
    session.info[NEW] = []


async def insert_seen(session: AsyncSession, _deps: Deps) -> None:
    """The batch's new beneficiaries in one INSERT: an ORM object each cost more than the rest of the batch."""
    if rows := session.info.pop(NEW, None):
        await session.execute(insert(BeneficiarySeen.__table__), rows)


@exactly_once(CONSUMER, prepare=read_seen, finish=insert_seen)
async def on_beneficiary_created(event: BeneficiaryCreatedV1, session: AsyncSession, _deps: Deps) -> None:
    if event.deployment_id is None:
        return
    counted = session.info.get(SEEN)  # None: one event alone
    if counted is None:
        if await session.get(BeneficiarySeen, event.profile_id) is not None:
            return
    elif event.profile_id in counted:
        return
    else:
        counted.add(event.profile_id)
        session.info[NEW].append({"profile_id": event.profile_id, "deployment_id": event.deployment_id,
                                  "active": True})
        return
    session.add(BeneficiarySeen(profile_id=event.profile_id, deployment_id=event.deployment_id, active=True))


@exactly_once(CONSUMER)
async def on_beneficiary_deactivated(event: BeneficiaryDeactivatedV1, session: AsyncSession, _deps: Deps) -> None:
    if seen := await session.get(BeneficiarySeen, event.profile_id):
        seen.active = False


@exactly_once(CONSUMER)
async def on_transfer_accepted(event: TransferAcceptedV1, session: AsyncSession, _deps: Deps) -> None:
    """A notebook transferred: its beneficiary is counted by the destination territory, no more by the origin."""
    seen = await session.get(BeneficiarySeen, event.beneficiary_id)
    if seen is None:
        session.add(BeneficiarySeen(profile_id=event.beneficiary_id, deployment_id=event.to_deployment_id,
                                    active=True))
    else:
        seen.deployment_id = event.to_deployment_id


@exactly_once(CONSUMER)
async def on_account_profile_changed(event: AccountProfileChangedV1, session: AsyncSession, deps: Deps) -> None:
    """A person completed "Bienvenue" or edited "Mon compte": the annuaire shows what they said of themselves."""
    if event.profile_id is None or event.role == "beneficiary":
        return
    person = await session.get(Person, event.profile_id, with_for_update=True)
    if person is None or person.deactivated_at is not None:
        return
    person.firstname, person.lastname = event.firstname or person.firstname, event.lastname or person.lastname
    person.position = event.position
    set_contact(person, email=event.email or person.email, phone=event.phone or "")
    person.updated_at = deps.clock()
    person.version += 1  # a manager's page opened before this edit must not overwrite it
    structures, _ = await person_links(session, [person.id])
    person.search_text = search_text_of(person, structures[person.id])
    # Notebook's read model shows the group's contact details: it must hear of the new number too.
    await publish_person(session, deps, person, "updated")


@exactly_once(CONSUMER)
async def on_message_failed(event: MessageFailedV1, session: AsyncSession, _deps: Deps) -> None:
    """An address or number notify could not deliver to is flagged on the active people who have it."""
    if not event.recipient:
        return
    column, flag = ((Person.phone, "phone_failed_at") if event.channel == Channel.sms
                    else (Person.email, "email_failed_at"))
    await session.execute(update(Person).where(column == event.recipient, Person.deactivated_at.is_(None))
                          .values({flag: event.occurred_at}))
