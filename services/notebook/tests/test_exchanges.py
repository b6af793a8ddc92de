"""Exchanges between professionals through notebook's broker in memory, on SQLite and PostgreSQL: a member puts a
question to another structure's référent and mentions members (by choice or as @Prénom Nom, members only), the
event names whom to tell and never carries the text, the text is encrypted at rest, unread counts on the list
follow each member's marker, the beneficiary reads the shared messages only, and anyone out of the group gets 404."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from contracts import notebook as c
from contracts import transfers as t
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.exchanges import ExchangePostedV1, ListExchangesV1, PostExchangeV1, ReplyExchangeV1
from contracts.identity import Role
from contracts.profiles import ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import ExchangeMessage
from services.notebook.tests.reads import access_log_of
from testkit.handlers import InMemoryService, refused
from testkit.clock import paris_today

pytestmark = pytest.mark.integration

SECRET = "Rendez-vous manqué mardi, à reprogrammer"


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Group:
    notebook_id: uuid.UUID
    referent: str       # Pierre Chevalier, CCAS, référent
    colleague: str      # Simon Anka, Groupe NS, member
    outsider: str       # Olivier Dehors, same territory, not a member
    manager: str
    beneficiary: str
    elsewhere: str
    ids: dict[str, uuid.UUID]


async def group(notebook: InMemoryService, token_mint) -> Group:
    territory, ccas, ns, system = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = {name: uuid.uuid4() for name in ("pierre", "simon", "olivier", "manager")}
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=territory,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    for structure, name in ((ccas, "CCAS de Livry-Gargan"), (ns, "Groupe NS")):
        await notebook.deliver(StructureCreatedV1(structure_id=structure, deployment_id=territory, name=name,
                                                  city="Livry-Gargan"))
    await notebook.deliver(ManagerCreatedV1(profile_id=ids["manager"], deployment_id=territory, firstname="Marie",
                                            lastname="Gérante", email="marie@test.carnet.fr"))
    people = (("pierre", "Pierre", "Chevalier", ccas), ("simon", "Simon", "Anka", ns),
              ("olivier", "Olivier", "Dehors", ccas))
    for key, firstname, lastname, structure in people:
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=ids[key], deployment_id=territory, firstname=firstname, lastname=lastname,
            email=f"{key}@test.carnet.fr", structure_ids=[structure], orientation_system_ids=[system]))

    def pro(key, structure):
        return token_mint.token(Role.professional, deployment_id=territory, profile_id=ids[key],
                                structure_ids=[structure])

    manager = token_mint.token(Role.manager, deployment_id=territory, profile_id=ids["manager"])
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname="Sophie", lastname="Tifour", date_of_birth=date(1990, 4, 12), email="sophie@test.carnet.fr",
        city="Livry-Gargan", postal_code="93190")), manager)
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id, as_referent=True,
                                         orientation_system_id=system), pro("pierre", ccas))
    await notebook.call(c.JoinNotebookV1(notebook_id=created.notebook_id), pro("simon", ns))
    ids["beneficiary"] = created.beneficiary_id
    return Group(created.notebook_id, pro("pierre", ccas), pro("simon", ns), pro("olivier", ccas), manager,
                 token_mint.token(Role.beneficiary, deployment_id=territory, profile_id=created.beneficiary_id),
                 token_mint.token(Role.professional, deployment_id=uuid.uuid4(), profile_id=uuid.uuid4()), ids)


async def unread(notebook: InMemoryService, token: str) -> dict[uuid.UUID, int]:
    found = await notebook.call(c.SearchNotebooksV1(mine=True), token)
    return {row.notebook_id: row.unread_exchanges for row in found.notebooks}


async def test_a_question_to_the_referent_mentions_and_unread_counts(notebook, token_mint):
    g = await group(notebook, token_mint)
    posted = await notebook.call(PostExchangeV1(
        notebook_id=g.notebook_id, text=SECRET, addressed_to=g.ids["pierre"]), g.colleague)
    assert posted.mentioned == 1
    [event] = await notebook.events(ExchangePostedV1.subject)
    assert event.exchange_id == posted.exchange_id and event.author_name == "Simon Anka"
    assert [(r.email, r.firstname, r.addressed) for r in event.recipients] == [
        ("pierre@test.carnet.fr", "Pierre", True)]
    assert SECRET not in event.model_dump_json()  # the text stays in the notebook

    # Written mentions resolve among the members only; the author never tells herself.
    await notebook.call(PostExchangeV1(
        notebook_id=g.notebook_id, text="Voir avec @pierre  CHEVALIER, @Olivier Dehors et @Simon Anka"),
        g.colleague)
    [_, second] = await notebook.events(ExchangePostedV1.subject)
    assert [r.email for r in second.recipients] == ["pierre@test.carnet.fr"]

    # The text is encrypted at rest.
    async with notebook.sessions() as session:
        stored = (await session.execute(select(ExchangeMessage.text_encrypted).where(
            ExchangeMessage.id == posted.exchange_id))).scalar_one()
    assert stored and SECRET not in stored and "Rendez-vous" not in stored

    # Unread on the référent's list until she views the thread; the author has none.
    assert (await unread(notebook, g.referent))[g.notebook_id] == 2
    assert (await unread(notebook, g.colleague))[g.notebook_id] == 0
    assert (await notebook.call(ListExchangesV1(notebook_id=g.notebook_id, mark_read=False), g.referent)).unread == 2
    assert (await unread(notebook, g.referent))[g.notebook_id] == 2
    thread = await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.referent)
    assert thread.unread == 2 and [m.text for m in thread.messages][0] == SECRET
    assert thread.messages[0].addressed_to_name == "Pierre Chevalier"
    assert thread.messages[0].author_structure == "Groupe NS"
    assert thread.messages[1].mentioned_names == ["Pierre Chevalier"]
    assert [(m.name, m.referent, m.structure_name) for m in thread.members] == [("Simon Anka", False, "Groupe NS")]
    assert "post_exchange" in thread.allowed
    assert (await unread(notebook, g.referent))[g.notebook_id] == 0
    again = await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.referent)
    assert again.unread == 0 and not any(m.unread for m in again.messages)

    # The référent answers, shared with the beneficiary: the colleague has one unread.
    await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Je la recontacte, c'est noté.",
                                       shared_with_beneficiary=True, mentions=[g.ids["simon"]]), g.referent)
    assert (await unread(notebook, g.colleague))[g.notebook_id] == 1
    assert (await unread(notebook, g.referent))[g.notebook_id] == 0


async def test_the_beneficiary_reads_only_what_was_shared_and_others_get_404(notebook, token_mint):
    g = await group(notebook, token_mint)
    await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text=SECRET), g.referent)
    await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Votre dossier est complet.",
                                       shared_with_beneficiary=True), g.referent)
    for asked in (ListExchangesV1(), ListExchangesV1(notebook_id=g.notebook_id)):
        hers = await notebook.call(asked, g.beneficiary)
        assert [m.text for m in hers.messages] == ["Votre dossier est complet."]
        assert hers.members == [] and hers.allowed == ["view_shared_exchanges", "reply_shared_exchange"]
    refusal = await refused(notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Merci"), g.beneficiary))
    assert refusal.code == ErrorCode.forbidden

    for token in (g.outsider, g.manager, g.elsewhere):
        assert (await refused(notebook.call(ListExchangesV1(notebook_id=g.notebook_id), token))).code \
            == ErrorCode.not_found
        assert (await refused(notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour"), token))).code \
            == ErrorCode.not_found
    assert (await refused(notebook.call(ListExchangesV1(notebook_id=uuid.uuid4()), g.referent))).code \
        == ErrorCode.not_found


async def test_bad_messages_are_refused_in_french_and_change_nothing(notebook, token_mint):
    g = await group(notebook, token_mint)
    cases = [
        (PostExchangeV1(notebook_id=g.notebook_id, text="   "), "text"),
        (PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour", mentions=[g.ids["olivier"]]), "mentions"),
        (PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour", addressed_to=g.ids["olivier"]), "addressed_to"),
        (PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour", addressed_to=g.ids["pierre"]), "addressed_to"),
    ]
    for message, field in cases:
        error = await refused(notebook.call(message, g.referent))
        assert error.code == ErrorCode.invalid and error.details["field"] == field, (field, error.message)
        assert error.message[0].isupper() and "membre" in error.message or field == "text"
    assert (await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.referent)).messages == []
    assert await notebook.events(ExchangePostedV1.subject) == []


async def test_a_professional_of_another_territory_let_in_by_a_referral_takes_part(notebook, token_mint):
    g = await group(notebook, token_mint)
    elsewhere, pro_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=pro_id, deployment_id=elsewhere, firstname="Inès", lastname="Ailleurs",
        email="ines@test.carnet.fr", structure_ids=[], orientation_system_ids=[]))
    await notebook.call(t.GrantReferralV1(notebook_id=g.notebook_id, email="ines@test.carnet.fr",
                                          until=paris_today() + timedelta(days=30)), g.manager)
    ines = token_mint.token(Role.professional, deployment_id=elsewhere, profile_id=pro_id)
    posted = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour @Pierre Chevalier"), ines)
    assert posted.mentioned == 1
    thread = await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.referent)
    assert [m.author_name for m in thread.messages] == ["Inès Ailleurs"]
    assert "Inès Ailleurs" in [m.name for m in thread.members]
    await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Merci", mentions=[pro_id]), g.referent)
    [_, answer] = await notebook.events(ExchangePostedV1.subject)
    assert [r.email for r in answer.recipients] == ["ines@test.carnet.fr"]


async def test_the_beneficiary_answers_a_shared_message_seen_by_the_group_and_told_to_its_author(notebook, token_mint):
    g = await group(notebook, token_mint)
    shared = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Votre dossier est complet.",
                                                shared_with_beneficiary=True), g.colleague)
    [told_her] = await notebook.events(ExchangePostedV1.subject)
    # She hears of it on her channels (email here: no mobile), never what it says.
    assert (told_her.beneficiary_email, told_her.beneficiary_phone) == ("sophie@test.carnet.fr", "")
    assert not told_her.by_beneficiary

    answer = await notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text=SECRET), g.beneficiary)
    assert answer.mentioned == 1
    [_, event] = await notebook.events(ExchangePostedV1.subject)
    assert event.by_beneficiary and event.reply_to == shared.exchange_id and event.author_name == "Sophie Tifour"
    assert [r.email for r in event.recipients] == ["simon@test.carnet.fr"]  # the author of what she answers
    assert event.beneficiary_email == "" and SECRET not in event.model_dump_json()  # not told of her own answer

    hers = await notebook.call(ListExchangesV1(), g.beneficiary)
    assert [(m.text, m.mine, m.by_beneficiary) for m in hers.messages] == [
        ("Votre dossier est complet.", False, False), (SECRET, True, True)]
    assert hers.messages[1].reply_to == shared.exchange_id
    thread = await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.referent)
    assert [(m.author_name, m.by_beneficiary, m.mine) for m in thread.messages][1] == ("Sophie Tifour", True, False)
    assert thread.unread == 2
    assert (await unread(notebook, g.colleague))[g.notebook_id] == 1  # her answer is new to him


async def test_her_answer_to_a_professional_gone_from_the_group_goes_to_her_referent(notebook, token_mint):
    g = await group(notebook, token_mint)
    shared = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Votre dossier est complet.",
                                                shared_with_beneficiary=True), g.colleague)
    await notebook.call(c.LeaveNotebookV1(notebook_id=g.notebook_id), g.colleague)

    answer = await notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text="Merci"), g.beneficiary)
    assert answer.mentioned == 1
    event = (await notebook.events(ExchangePostedV1.subject))[-1]
    assert [r.email for r in event.recipients] == ["pierre@test.carnet.fr"]


async def test_she_answers_a_professional_not_her_own_answer(notebook, token_mint):
    g = await group(notebook, token_mint)
    shared = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour Sophie",
                                                shared_with_beneficiary=True), g.referent)
    mine = await notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text="Merci"), g.beneficiary)

    error = await refused(notebook.call(ReplyExchangeV1(exchange_id=mine.exchange_id, text="Encore"), g.beneficiary))
    assert error.code == ErrorCode.invalid and error.details["field"] == "exchange_id"
    assert error.message == "On répond au message d'un professionnel, pas à sa propre réponse."
    assert [m.text for m in (await notebook.call(ListExchangesV1(), g.beneficiary)).messages] == [
        "Bonjour Sophie", "Merci"]
    assert len(await notebook.events(ExchangePostedV1.subject)) == 2


async def test_what_the_beneficiary_may_not_see_she_may_not_answer(notebook, token_mint):
    g = await group(notebook, token_mint)
    private = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text=SECRET), g.referent)
    [private_event] = await notebook.events(ExchangePostedV1.subject)
    assert private_event.beneficiary_email == ""  # not shared: she is not told
    shared = await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Bonjour Sophie",
                                                shared_with_beneficiary=True), g.referent)
    other = await group(notebook, token_mint)
    elsewhere = await notebook.call(PostExchangeV1(notebook_id=other.notebook_id, text="Bonjour",
                                                   shared_with_beneficiary=True), other.referent)

    for exchange_id in (private.exchange_id, elsewhere.exchange_id, uuid.uuid4()):
        error = await refused(notebook.call(ReplyExchangeV1(exchange_id=exchange_id, text="Merci"), g.beneficiary))
        assert error.code == ErrorCode.not_found and error.message.startswith("Ce message")
    for token in (g.outsider, g.manager, g.elsewhere, other.beneficiary):
        error = await refused(notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text="Merci"), token))
        assert error.code == ErrorCode.not_found
    # A member writes in the thread instead.
    assert (await refused(notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text="Merci"),
                                        g.colleague))).code == ErrorCode.forbidden
    blank = await refused(notebook.call(ReplyExchangeV1(exchange_id=shared.exchange_id, text="  "), g.beneficiary))
    assert blank.code == ErrorCode.invalid and blank.details["field"] == "text"
    assert [m.text for m in (await notebook.call(ListExchangesV1(), g.beneficiary)).messages] == ["Bonjour Sophie"]
    assert len(await notebook.events(ExchangePostedV1.subject)) == 3


async def test_reading_the_thread_by_its_address_is_in_the_access_log(notebook, token_mint):
    """The professionals' thread is the notebook's content: who reads it, even without opening the page, is in the
    access log the beneficiary reads; her own reads are not."""
    g = await group(notebook, token_mint)
    await notebook.call(PostExchangeV1(notebook_id=g.notebook_id, text="Point sur la formation"), g.referent)
    await notebook.call(ListExchangesV1(notebook_id=g.notebook_id), g.colleague)
    await notebook.call(ListExchangesV1(), g.beneficiary)
    assert await access_log_of(notebook, g.notebook_id) == ([("Simon Anka", "professional", 1)], 1)
