"""Events of other services kept here: beneficiaries counted per territory, profile edits made at identity."""
from __future__ import annotations

from contracts.identity import AccountProfileChangedV1
from contracts.profiles import BeneficiaryCreatedV1, BeneficiaryDeactivatedV1
from directory.adapters.orm import BeneficiarySeen, Person
from directory.handlers.deps import Deps
from directory.handlers.people import search_text_of
from directory.handlers.views import person_links
from servicekit import inbox
from servicekit.consumers import EventMeta

CONSUMER = "directory-read-models"


async def on_beneficiary_created(event: BeneficiaryCreatedV1, _meta: EventMeta, deps: Deps) -> None:
    async with deps.sessions() as session, session.begin():
        if not await inbox.claim(session, CONSUMER, event.event_id) or event.deployment_id is None:
            return
        seen = await session.get(BeneficiarySeen, event.profile_id)
        if seen is None:
            session.add(BeneficiarySeen(profile_id=event.profile_id, deployment_id=event.deployment_id, active=True))


async def on_beneficiary_deactivated(event: BeneficiaryDeactivatedV1, _meta: EventMeta, deps: Deps) -> None:
    async with deps.sessions() as session, session.begin():
        if not await inbox.claim(session, CONSUMER, event.event_id):
            return
        if seen := await session.get(BeneficiarySeen, event.profile_id):
            seen.active = False


async def on_account_profile_changed(event: AccountProfileChangedV1, _meta: EventMeta, deps: Deps) -> None:
    """A person completed "Bienvenue" or edited "Mon compte": the annuaire shows what they said of themselves."""
    if event.profile_id is None or event.role == "beneficiary":
        return
    async with deps.sessions() as session, session.begin():
        if not await inbox.claim(session, CONSUMER, event.event_id):
            return
        person = await session.get(Person, event.profile_id)
        if person is None or person.deactivated_at is not None:
            return
        person.firstname, person.lastname = event.firstname or person.firstname, event.lastname or person.lastname
        person.phone, person.position = event.phone or "", event.position
        person.email = event.email or person.email
        person.updated_at = deps.clock()
        structures, _ = await person_links(session, [person.id])
        person.search_text = search_text_of(person, structures[person.id])
