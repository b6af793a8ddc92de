"""The beneficiaries' list reads narrow search rows that the database keeps (migration 0023, issue 19): whatever
writes the beneficiaries and notebooks, the list must stay exactly the one the wide tables give."""
from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from contracts import notebook as c
from notebook.adapters.orm import Beneficiary, Notebook
from notebook.adapters.search_orm import NotebookSearch
from notebook.handlers.search import words_of
from servicekit.contact import search_key
from testkit.clock import paris_today
from testkit.handlers import InMemoryService

from .test_handlers import beneficiary, new_territory, with_referent

pytestmark = pytest.mark.integration

LASTNAMES = ["Tifour", "TIFOUR", "Tïfour", "Benali", "Gonzalez", "Gonzales", "Dupré", "Bœuf", "N'Guyen", "Ba"]
FIRSTNAMES = ["Élodie", "Elodie", "Sophie", "Karim", "Zoé", "Anaïs", "Sophia"]


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


async def wide_rows(notebook: InMemoryService) -> set[tuple]:
    async with notebook.sessions() as session:
        return set((await session.execute(
            select(Notebook.id, Beneficiary.id, Beneficiary.deployment_id, Beneficiary.lastname, Beneficiary.firstname,
                   Beneficiary.search_text, Beneficiary.subject_to_right_and_duty)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id))).all())


async def narrow_rows(notebook: InMemoryService) -> set[tuple]:
    r = NotebookSearch
    async with notebook.sessions() as session:
        return set((await session.execute(select(r.notebook_id, r.beneficiary_id, r.deployment_id, r.lastname,
                                                 r.firstname, r.search_text, r.subject_to_right_and_duty))).all())


async def expected(notebook: InMemoryService, territory_id: uuid.UUID, q: str, duties: bool) -> list[uuid.UUID]:
    """The list as it was read before the search rows: the beneficiaries joined to their notebooks, every word in
    the search text, sorted by name then notebook."""
    query = (select(Notebook.id).join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
             .where(Beneficiary.deployment_id == territory_id,
                    *(Beneficiary.search_text.contains(w, autoescape=True) for w in words_of(q)))
             .order_by(Beneficiary.lastname, Beneficiary.firstname, Notebook.id))
    if duties:
        query = query.where(Beneficiary.subject_to_right_and_duty.is_(True))
    async with notebook.sessions() as session:
        return list((await session.scalars(query)).all())


async def test_the_list_stays_the_wide_tables_one_after_any_write(notebook, token_mint):
    rng = random.Random(19)
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    today = paris_today()
    created = []
    for index in range(40):
        # Few names, so that many rows share a name and the notebook's id breaks the tie.
        fields = c.BeneficiaryFields(firstname=rng.choice(FIRSTNAMES), lastname=rng.choice(LASTNAMES),
                                     date_of_birth=date(today.year - 20 - index, 1 + index % 12, 1 + index % 28),
                                     mobile_number=f"06 12 34 {index:02d} {rng.randrange(100):02d}",
                                     subject_to_right_and_duty=rng.random() < 0.5)
        owner = other if index % 5 == 0 else territory
        reply = await notebook.call(c.CreateBeneficiaryV1(beneficiary=fields), owner.manager)
        created.append((reply.notebook_id, fields, owner))
    followed = await with_referent(notebook, territory)  # "Sophie Tifour", a référent and a structure
    # Names, phone and droits et devoirs changed through the handler (the ORM).
    for notebook_id, fields, owner in rng.sample(created, 12):
        changed = fields.model_copy(update={
            "lastname": rng.choice(LASTNAMES), "firstname": rng.choice(FIRSTNAMES),
            "mobile_number": f"06 98 {rng.randrange(10**6):06d}",
            "subject_to_right_and_duty": not fields.subject_to_right_and_duty})
        await notebook.call(c.UpdateBeneficiaryV1(notebook_id=notebook_id, version=1, beneficiary=changed),
                            owner.manager)
    # Rows written without the ORM, as the imports write them: inserted in bulk, changed, one deleted.
    now, bulk = datetime.now(UTC), [(uuid.uuid4(), uuid.uuid4()) for _ in range(3)]
    async with notebook.sessions.begin() as session:
        await session.execute(insert(Beneficiary.__table__), [dict(
            id=beneficiary_id, deployment_id=territory.id, firstname="Karim", lastname="Tifour",
            date_of_birth=date(1970, 1, 1 + n), search_text=search_key(f"Karim Tifour 06000000{n:02d}"),
            identity_key=f"tifour|karim|{n}", created_at=now) for n, (_, beneficiary_id) in enumerate(bulk)])
        await session.execute(insert(Notebook.__table__), [dict(
            id=notebook_id, beneficiary_id=beneficiary_id, deployment_id=territory.id, created_at=now)
            for notebook_id, beneficiary_id in bulk])
        await session.execute(update(Beneficiary.__table__).where(Beneficiary.id == bulk[0][1]).values(
            lastname="Benali", search_text="karim benali 0600000000", subject_to_right_and_duty=True))
        await session.execute(delete(Notebook.__table__).where(Notebook.id == bulk[1][0]))

    assert await narrow_rows(notebook) == await wide_rows(notebook)
    for q in ["", "tifour", "TÏFOUR", "gonz", "élodie tif", "ti", "so ti", "06 12 34", "0612340", "karim", "zzz"]:
        for duties in (False, True):
            every = await expected(notebook, territory.id, q, duties)
            for offset, limit in ((0, 100), (0, 5), (5, 5), (len(every), 5)):
                found = await notebook.call(c.SearchNotebooksV1(
                    q=q, subject_to_right_and_duty=duties, offset=offset, limit=limit), territory.manager)
                assert [row.notebook_id for row in found.notebooks] == every[offset:offset + limit], (q, duties)
                assert (found.total, found.more) == (len(every), False)
    # The notebook-side filters still apply to the rows found by text.
    mine = await notebook.call(c.SearchNotebooksV1(q="tifour", mine=True), territory.pro)
    assert [row.notebook_id for row in mine.notebooks] == [followed]
    accompanied = await notebook.call(c.SearchNotebooksV1(q="tif", support=c.SupportStatus.accompanied),
                                      territory.manager)
    assert [row.notebook_id for row in accompanied.notebooks] == [followed] and accompanied.total == 1


async def test_a_beneficiary_is_found_by_nir_only_within_the_caller_s_territory(notebook, token_mint):
    territory, other = await new_territory(notebook, token_mint), await new_territory(notebook, token_mint)
    created = await notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary(nir="1 90 04 26 198 123")),
                                  territory.manager)
    await notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary(firstname="Karim")), territory.manager)

    found = await notebook.call(c.SearchNotebooksV1(q="1 90 04 26 198 123 45"), territory.manager)
    assert [row.notebook_id for row in found.notebooks] == [created.notebook_id] and found.total == 1
    assert (await notebook.call(c.SearchNotebooksV1(q="1900426198123"), other.manager)).total == 0


async def test_a_professional_sees_the_rights_and_duties_flag_only_in_the_notebooks_she_follows(notebook, token_mint):
    """The public card withholds « soumis aux droits et devoirs »: the list leaves it out of the other rows (rather
    than saying « no »), and its filter keeps to her notebooks. A manager sees it everywhere in the territory."""
    territory = await new_territory(notebook, token_mint)
    mine, other = [(await notebook.call(c.CreateBeneficiaryV1(beneficiary=beneficiary(
        firstname=firstname, lastname="Devoirs", subject_to_right_and_duty=True)), territory.manager)).notebook_id
        for firstname in ("Anaïs", "Karim")]
    await notebook.call(c.JoinNotebookV1(notebook_id=mine), territory.pro)

    listed = await notebook.call(c.SearchNotebooksV1(q="Devoirs"), territory.pro)
    rows = {row["notebook_id"]: row for row in listed.model_dump(mode="json")["notebooks"]}
    assert rows[str(mine)]["subject_to_right_and_duty"] is True
    assert "subject_to_right_and_duty" not in rows[str(other)]
    duties = await notebook.call(c.SearchNotebooksV1(q="Devoirs", subject_to_right_and_duty=True), territory.pro)
    assert [row.notebook_id for row in duties.notebooks] == [mine]
    managed = await notebook.call(c.SearchNotebooksV1(q="Devoirs", subject_to_right_and_duty=True), territory.manager)
    assert [row.subject_to_right_and_duty for row in managed.notebooks] == [True, True]
