"""Imports of beneficiaries, rattachements and réorientations through the notebook's RPCs, as the import service
sends them (spec §4.1 A, E, F), on SQLite and PostgreSQL: review statuses and messages, outcomes applied once."""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.directory import OrientationSystemCreatedV1, OrientationType, StructureCreatedV1
from contracts.identity import Role
from contracts.imports import (
    ApplyNotebookImportV1,
    ImportActor,
    ImportKind,
    ImportRowValues,
    Outcome,
    ReviewNotebookImportV1,
    ReviewStatus,
)
from contracts.profiles import BeneficiaryCreatedV1, ManagerCreatedV1, ProfessionalCreatedV1
from notebook.adapters.orm import (Beneficiary, BeneficiaryStructure, Member, Notebook, ProfessionalProject,
                                   TimelineEvent)
from notebook.handlers import import_beneficiaries
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration

ROME = "Chauffeur / Chauffeuse de machines agricoles (A1101)"


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


@dataclass
class Territory:
    """Two structures (a Mission Locale, a Groupe NS), a professional in each (Pierre, Sanka) and a second one in
    the Mission Locale (Simon); each professional holds the territory's orientation system."""

    id: uuid.UUID
    manager: ImportActor
    mission_locale: uuid.UUID
    groupe_ns: uuid.UUID
    system: uuid.UUID
    pierre: uuid.UUID
    simon: uuid.UUID
    sanka: uuid.UUID
    manager_token: str
    nir: str  # Hélène's: a NIR is unique across territories, each test has its own

    def admin(self, *structure_ids: uuid.UUID) -> ImportActor:
        return ImportActor(account_id=uuid.uuid4(), role=Role.admin_structure, deployment_id=self.id,
                           profile_id=uuid.uuid4(), structure_ids=list(structure_ids), name="Jacques Célaire")


async def new_territory(notebook: InMemoryService, token_mint) -> Territory:
    deployment_id, system = uuid.uuid4(), uuid.uuid4()
    mission_locale, groupe_ns = uuid.uuid4(), uuid.uuid4()
    manager_id = uuid.uuid4()
    await notebook.deliver(OrientationSystemCreatedV1(orientation_system_id=system, deployment_id=deployment_id,
                                                      name="Professionnel", orientation_type=OrientationType.pro))
    for structure_id, name in ((mission_locale, "Mission Locale"), (groupe_ns, "Groupe NS")):
        await notebook.deliver(StructureCreatedV1(structure_id=structure_id, deployment_id=deployment_id, name=name,
                                                  city="Valence"))
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment_id, firstname="Agathe",
                                            lastname="Deblouze", email=f"agathe.{deployment_id}@test.carnet.fr"))
    people = {}
    for firstname, structure_id in (("Pierre", mission_locale), ("Simon", mission_locale), ("Sanka", groupe_ns)):
        people[firstname] = uuid.uuid4()
        await notebook.deliver(ProfessionalCreatedV1(
            profile_id=people[firstname], deployment_id=deployment_id, firstname=firstname, lastname="Pro",
            email=email(firstname, deployment_id), structure_ids=[structure_id], orientation_system_ids=[system]))
    manager = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=deployment_id,
                          profile_id=manager_id, name="Agathe Deblouze")
    token = token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id)
    return Territory(deployment_id, manager, mission_locale, groupe_ns, system, people["Pierre"], people["Simon"],
                     people["Sanka"], token, a_nir())


def a_nir(sex: str = "2") -> str:
    return f"{sex}8503{random.randrange(10 ** 8):08d}"


def email(firstname: str, deployment_id: uuid.UUID) -> str:
    return f"{firstname.lower()}.{str(deployment_id)[:8]}@test.carnet.fr"


def person(firstname="Hélène", lastname="Çelik", born="1985-03-12", external_id="SI-1", **values) -> dict:
    return {"firstname": firstname, "lastname": lastname, "date_of_birth": born, "external_id": external_id,
            **values}


def rows(*values: dict, first: int = 2) -> list[ImportRowValues]:
    return [ImportRowValues(row=first + i, values=v) for i, v in enumerate(values)]


async def review(notebook, actor, kind, batch_rows, **fields):
    reply = await notebook.call(ReviewNotebookImportV1(import_id=uuid.uuid4(), kind=kind, actor=actor,
                                                       rows=batch_rows, **fields))
    return {r.row: r for r in reply.results}


async def apply(notebook, actor, kind, batch_rows, import_id=None, **fields):
    reply = await notebook.call(ApplyNotebookImportV1(import_id=import_id or uuid.uuid4(), kind=kind, actor=actor,
                                                      rows=batch_rows, **fields))
    return {r.row: r for r in reply.results}


async def existing(notebook, territory, **fields) -> c.NotebookCreatedReply:
    """A beneficiary created with the form: Hélène Çelik, SI-1, NIR, in Valence."""
    values = {"firstname": "Hélène", "lastname": "Çelik", "date_of_birth": date(1985, 3, 12), "external_id": "SI-1",
              "nir": territory.nir, "city": "Valence", "mobile_number": "06 12 34 56 78", **fields}
    return await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(**values)),
                               territory.manager_token)


async def scalar(notebook, query):
    async with notebook.sessions() as session:
        return await session.scalar(query)


async def all_of(notebook, query):
    async with notebook.sessions() as session:
        return (await session.execute(query)).all()


# --- beneficiaries ------------------------------------------------------------------------------------------

async def test_review_says_what_each_beneficiary_row_would_do(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    elsewhere = await new_territory(notebook, token_mint)
    await existing(notebook, territory)
    await existing(notebook, territory, firstname="Jean", lastname="Bon", external_id="SI-2", nir="",
                   mobile_number="")
    other_nir = a_nir()
    await existing(notebook, elsewhere, firstname="Autre", external_id="SI-9", nir=other_nir, mobile_number="")

    found = await review(notebook, territory.manager, ImportKind.beneficiaries, rows(
        person(firstname="Zoé", lastname="Nouvelle", external_id="SI-3", structure_name="Mission Locale"),  # 2
        person(firstname="HELENE", lastname="celik", nir=territory.nir, city="Valence"),  # 3: same, unchanged
        person(city="Romans", mobile_numbers=["+33699999999", "+33611111111"], right_rqth=True,
               rome_labels=[ROME]),  # 4
        person(firstname="Paul", external_id="SI-1"),  # 5: the SI id of someone else
        person(external_id="SI-7"),  # 6: the same person under another SI id
        person(firstname="Marc", lastname="Autre", external_id="SI-8", nir=territory.nir),  # 7: only the NIR matches
        person(external_id="SI-2"),  # 8: Hélène's identity, Jean's SI id
        person(firstname="Léa", lastname="Ailleurs", external_id="SI-10", nir=other_nir),  # 9: NIR elsewhere
        person(firstname="Léo", lastname="Inconnu", external_id="SI-11", structure_name="Structure fantôme"),  # 10
        person(firstname="Léon", lastname="Long", external_id="SI-12", place_of_birth="x" * 121),  # 11
    ))

    assert found[2].status == ReviewStatus.new and found[2].match is None
    assert (found[3].status, found[3].changed) == (ReviewStatus.same, [])
    assert found[3].match.label == "Hélène Çelik, née le 12/03/1985"  # her NIR says so
    assert found[4].status == ReviewStatus.same
    assert found[4].changed == ["city", "mobile_numbers", "right_rqth", "rome_labels"]
    assert any("seul le premier numéro" in m for m in found[4].messages)
    assert (found[5].status, found[5].messages) == (
        ReviewStatus.conflict, ["Un bénéficiaire existe déjà avec cet identifiant SI sur le territoire."])
    assert found[6].messages == ["Un bénéficiaire existe déjà avec ce nom/prénom/date de naissance sur le territoire."]
    assert found[7].messages == [import_beneficiaries.SAME_NIR]
    assert (found[8].status, found[8].messages) == (ReviewStatus.conflict, [
        "Plusieurs bénéficiaires existent déjà avec ce nom/prénom/date de naissance sur le territoire."])
    assert (found[9].status, found[9].match, found[9].messages) == (
        ReviewStatus.conflict, None, [import_beneficiaries.SAME_NIR])  # nothing shown of another territory
    assert (found[10].status, found[10].messages) == (ReviewStatus.new, [
        "« Structure » : aucune structure ne porte le nom « Structure fantôme » sur votre territoire ; le "
        "bénéficiaire sera créé sans structure ni référent."])
    assert (found[11].status, found[11].messages) == (ReviewStatus.invalid,
                                                      ["Valeur refusée (lieu de naissance) : vérifiez-la."])
    assert await scalar(notebook, select(func.count()).select_from(Beneficiary).where(
        Beneficiary.deployment_id == territory.id)) == 2  # a review changes nothing


async def test_apply_creates_updates_and_never_overwrites_identity(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    created = await existing(notebook, territory)
    pierre = email("Pierre", territory.id)
    batch = rows(
        person(firstname="Zoé", lastname="Nouvelle", external_id="SI-3", referent_email=pierre,
               mobile_numbers=["+33611223344"], work_situation="recherche_emploi", education_level="NV4",
               right_rqth=True, rome_labels=[ROME, "Métier inconnu (Z9999)"], right_rsa="rsa_droit_ouvert_versable"),
        person(firstname="helene", lastname="CELIK", city="Romans", address1="1 rue Neuve", email="h@celik.fr"),
        person(firstname="Paul", external_id="SI-1"),
        person(firstname="Zoé", lastname="Nouvelle", external_id="SI-3"),  # again: found, nothing new
    )
    import_id = uuid.uuid4()
    done = await apply(notebook, territory.manager, ImportKind.beneficiaries, batch, import_id)

    assert [done[r].outcome for r in (2, 3, 4, 5)] == [Outcome.created, Outcome.updated, Outcome.rejected,
                                                       Outcome.unchanged]
    assert done[4].messages == ["Un bénéficiaire existe déjà avec cet identifiant SI sur le territoire."]
    assert done[3].target_id == created.notebook_id and done[5].target_id == done[2].target_id
    assert any("Métier inconnu" in m for m in done[2].messages)
    async with notebook.sessions() as session:
        helene = await session.get(Beneficiary, created.beneficiary_id)
        assert (helene.firstname, helene.lastname, helene.city, helene.address1) == (
            "Hélène", "Çelik", "Romans", "1 rue Neuve")  # identity as it was, variable fields as imported
        assert (helene.email, helene.mobile_number, helene.version) == ("h@celik.fr", "+33612345678", 2)
        zoe_notebook = await session.get(Notebook, done[2].target_id)
        zoe = await session.get(Beneficiary, zoe_notebook.beneficiary_id)
        assert (zoe.mobile_number, zoe.right_rsa, zoe.external_id) == (
            "+33611223344", "rsa_droit_ouvert_versable", "SI-3")
        assert (zoe_notebook.work_situation, zoe_notebook.education_level, zoe_notebook.right_rqth) == (
            "recherche_emploi", "NV4", True)
        assert (await session.execute(select(ProfessionalProject.rome_code).where(
            ProfessionalProject.notebook_id == zoe_notebook.id))).scalars().all() == [ROME]
        [referent] = (await session.execute(select(Member).where(Member.notebook_id == zoe_notebook.id))).scalars()
        assert (referent.person_id, referent.member_type) == (territory.pierre, "referent")
        [link] = (await session.execute(select(BeneficiaryStructure).where(
            BeneficiaryStructure.notebook_id == zoe_notebook.id))).scalars()
        assert (link.structure_id, link.status) == (territory.mission_locale, "current")
        history = (await session.execute(select(TimelineEvent.kind, TimelineEvent.source).where(
            TimelineEvent.notebook_id.in_([zoe_notebook.id, created.notebook_id]), TimelineEvent.kind != "notebook")
            .order_by(TimelineEvent.kind))).all()
        assert history == [("beneficiary", "import"), ("member", "import")]  # Hélène's update, Zoé's référent
    created_events = [e for e in await notebook.events(c.NotebookCreatedV1.subject) if e.deployment_id == territory.id]
    assert [e.notebook_id for e in created_events] == [created.notebook_id, done[2].target_id]
    [profile] = [e for e in await notebook.events(BeneficiaryCreatedV1.subject) if e.profile_id == zoe.id]
    assert profile.phone == "+33611223344"
    [changed] = [e for e in await notebook.events(c.ReferentChangedV1.subject) if e.notebook_id == zoe_notebook.id]
    assert changed.referent_id == territory.pierre

    # Sent again (the import service crashed before it heard the reply): the same outcomes, nothing twice.
    events_before = len(await notebook.events())
    again = await apply(notebook, territory.manager, ImportKind.beneficiaries, batch, import_id)
    assert again == done
    assert len(await notebook.events()) == events_before
    assert await scalar(notebook, select(func.count()).select_from(Beneficiary).where(
        Beneficiary.deployment_id == territory.id)) == 2


async def test_a_value_the_notebook_refuses_is_reported_with_its_column(notebook, token_mint):
    """The import service lets through numbers of the right length in ranges not allocated (07 12…, as v1 did):
    the notebook refuses them, naming the field, as the import's own messages name their column."""
    territory = await new_territory(notebook, token_mint)
    found = await review(notebook, territory.manager, ImportKind.beneficiaries, rows(
        person(firstname="Léo", lastname="Numéro", external_id="SI-13", mobile_numbers=["+33712345670"])))
    assert (found[2].status, found[2].messages) == (
        ReviewStatus.invalid, ["« Téléphone » : Ce numéro de téléphone n'est pas valide."])


async def test_an_unknown_structure_creates_the_beneficiary_without_structure_nor_referent(notebook, token_mint):
    """As v1 (spec §4.1 A, step 3), but said in the report rather than silently."""
    territory = await new_territory(notebook, token_mint)
    done = await apply(notebook, territory.manager, ImportKind.beneficiaries, rows(
        person(firstname="Léo", lastname="Inconnu", external_id="SI-11", structure_name="Structure fantôme",
               referent_email=email("Pierre", territory.id))))

    assert (done[2].outcome, done[2].messages) == (Outcome.created, [
        import_beneficiaries.UNKNOWN_STRUCTURE.format(name="Structure fantôme")])
    assert await all_of(notebook, select(Member.id).where(Member.notebook_id == done[2].target_id)) == []
    assert await all_of(notebook, select(BeneficiaryStructure.id).where(
        BeneficiaryStructure.notebook_id == done[2].target_id)) == []


async def test_a_row_the_database_refuses_is_rejected_alone(notebook, token_mint, monkeypatch):
    """Two rows of the same new person, the batch not remembering the first: the unique index refuses the second
    when the batch is flushed together; replayed row by row, only that row is rejected."""
    territory = await new_territory(notebook, token_mint)
    monkeypatch.setattr(import_beneficiaries.Context, "remember", lambda self, b, n: None)
    done = await apply(notebook, territory.manager, ImportKind.beneficiaries, rows(
        person(), person(firstname="Autre", external_id="SI-2"), person(), person(firstname="Trois",
                                                                                  external_id="SI-3")))
    assert [done[r].outcome for r in (2, 3, 4, 5)] == [Outcome.created, Outcome.created, Outcome.rejected,
                                                       Outcome.created]
    assert await scalar(notebook, select(func.count()).select_from(Beneficiary).where(
        Beneficiary.deployment_id == territory.id)) == 3


async def test_only_a_manager_of_the_territory_imports_beneficiaries(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    for actor in (territory.admin(territory.mission_locale),
                  territory.manager.model_copy(update={"deployment_id": None}),
                  territory.manager.model_copy(update={"role": Role.professional})):
        denied = await refused(apply(notebook, actor, ImportKind.beneficiaries, rows(person())))
        assert denied.code == ErrorCode.forbidden
    denied = await refused(review(notebook, territory.manager, ImportKind.referents, rows(
        {"notebook_id": str(uuid.uuid4()), "referent_emails": ["a@b.fr"]})))
    assert denied.code == ErrorCode.forbidden


async def test_the_events_of_imported_rows_are_those_validated_construction_would_write(notebook, token_mint):
    """The events of a created row are built without validating their values again (they were, as the
    beneficiary's fields): their JSON in the outbox is exactly what validating them would give."""
    from contracts.registry import registry
    from contracts.pilotage import NotebookChangedV1
    from servicekit.messaging import outbox_table

    territory = await new_territory(notebook, token_mint)
    mark = await scalar(notebook, select(func.max(outbox_table.c.seq))) or 0
    await apply(notebook, territory.manager, ImportKind.beneficiaries, rows(person(
        firstname=" Zoé ", lastname="D'Arc", external_id="SI-E", mobile_numbers=["+33612345678"],
        email="Zoe.Darc@Exemple.fr", nir=territory.nir)))
    payloads = await all_of(notebook, select(outbox_table.c.subject, outbox_table.c.payload).where(
        outbox_table.c.seq > mark).order_by(outbox_table.c.seq))
    subjects = {subject for subject, _ in payloads}
    assert {BeneficiaryCreatedV1.subject, c.NotebookCreatedV1.subject, NotebookChangedV1.subject} <= subjects
    for subject, payload in payloads:
        event = registry[subject].model_validate_json(payload)
        assert event.model_dump_json().encode() == bytes(payload), subject
    [profile] = [registry[s].model_validate_json(p) for s, p in payloads if s == BeneficiaryCreatedV1.subject]
    assert (profile.firstname, profile.email, profile.phone) == ("Zoé", "zoe.darc@exemple.fr", "+33612345678")


async def test_a_reimported_row_is_unchanged_only_when_every_value_it_gives_is_the_one_kept(notebook, token_mint):
    """A re-import compares each value given with the one kept before anything else (the NIR by its keyed hash,
    with or without its key; the CAF number decrypted): equal, the row is unchanged; one value apart, it updates
    that one, secret or not."""
    territory = await new_territory(notebook, token_mint)
    nir = f"{int(territory.nir) // 100 * 100 + 85:013d}"
    key = f"{97 - int(nir) % 97:02d}"
    given = dict(mobile_numbers=["+33612345678"], email="zoe@exemple.fr", city="Valence", postal_code="26000",
                 address1="1 rue de la Paix", caf_number="1234567", right_rsa="rsa_droit_ouvert_versable",
                 right_are=True, work_situation="recherche_emploi")

    def row(**values):
        return rows(person(firstname="Zoé", lastname="Arc", external_id="SI-Z", **{**given, **values}))

    assert (await apply(notebook, territory.manager, ImportKind.beneficiaries, row(nir=nir)))[2].outcome == \
        Outcome.created
    for values in ({"nir": nir}, {"nir": nir + key}, {"nir": f"{nir[:5]} {nir[5:]}"}, {}):
        done = await apply(notebook, territory.manager, ImportKind.beneficiaries, row(**values))
        assert done[2].outcome == Outcome.unchanged, values
    for values, field in (({"caf_number": "7654321"}, "identifiant CAF/MSA"), ({"right_are": False}, "ARE"),
                          ({"city": "Romans", "postal_code": "26100"}, "ville"), ({"address1": "2 rue"}, "adresse")):
        reviewed = await review(notebook, territory.manager, ImportKind.beneficiaries, row(**values))
        assert reviewed[2].status == ReviewStatus.same and reviewed[2].changed, values
        done = await apply(notebook, territory.manager, ImportKind.beneficiaries, row(**values))
        assert done[2].outcome == Outcome.updated, values
        summary = await scalar(notebook, select(TimelineEvent.summary).where(
            TimelineEvent.notebook_id == done[2].target_id).order_by(TimelineEvent.occurred_at.desc()).limit(1))
        assert field in summary, summary
        given.update(values)


async def test_a_batch_of_500_beneficiaries_reviewed_created_then_updated(notebook, token_mint):
    """Timings printed (``-s``): the budget is a batch of new beneficiaries well under 100 ms on PostgreSQL."""
    territory = await new_territory(notebook, token_mint)
    nirs = int(a_nir()) // 1000 * 1000

    def batch(city: str):
        return rows(*(person(firstname=f"Prénom{i}", lastname=f"Nom{i}", external_id=f"SI-{i}",
                             mobile_numbers=["+33612345678"], city=city, postal_code="26000", nir=f"{nirs + i}",
                             work_situation="recherche_emploi") for i in range(500)))

    timings = {}
    for step, rows_of, call in (("review (new)", batch("Valence"), review),
                                ("apply (created)", batch("Valence"), apply),
                                ("apply (unchanged)", batch("Valence"), apply),
                                ("apply (updated)", batch("Romans"), apply)):
        started = time.perf_counter()
        done = await call(notebook, territory.manager, ImportKind.beneficiaries, rows_of)
        timings[step] = time.perf_counter() - started
        expected = {"review (new)": ReviewStatus.new, "apply (created)": Outcome.created,
                    "apply (unchanged)": Outcome.unchanged, "apply (updated)": Outcome.updated}[step]
        assert {getattr(r, "status", None) or r.outcome for r in done.values()} == {expected}, step
    print("\n" + "\n".join(f"500 beneficiaries, {step}: {s * 1000:.0f} ms ({500 / s:.0f} rows/s)"
                           for step, s in timings.items()))


# --- rattachements (spec §4.1 E) ----------------------------------------------------------------------------

async def waiting(notebook, territory, firstname="Myrna", external_id="SI-20") -> uuid.UUID:
    """A beneficiary attached to the Mission Locale, with no référent yet."""
    done = await apply(notebook, territory.manager, ImportKind.beneficiaries, rows(person(
        firstname=firstname, lastname="Henderson", born="1999-12-08", external_id=external_id,
        structure_name="Mission Locale")))
    return done[2].target_id


async def test_rattachements_add_the_structure_professionals_once(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await waiting(notebook, territory)
    elsewhere = await waiting(notebook, territory, firstname="Autre", external_id="SI-21")
    async with notebook.sessions.begin() as session:  # the second one moves to the Groupe NS
        link = (await session.execute(select(BeneficiaryStructure).where(
            BeneficiaryStructure.notebook_id == elsewhere))).scalar_one()
        link.structure_id = territory.groupe_ns
    admin = territory.admin(territory.mission_locale)
    pierre, simon, sanka = (email(n, territory.id) for n in ("Pierre", "Simon", "Sanka"))
    batch = rows(
        {"notebook_id": str(notebook_id), "firstname": "Myrna", "lastname": "Henderson",
         "date_of_birth": "1999-12-08", "referent_emails": [pierre, simon, sanka]},
        {"notebook_id": str(elsewhere), "referent_emails": [pierre]},
        {"notebook_id": str(notebook_id), "firstname": "Pas", "lastname": "Elle", "date_of_birth": "1999-12-08",
         "referent_emails": [pierre]},
    )
    found = await review(notebook, admin, ImportKind.referents, batch, structure_id=territory.mission_locale)
    assert found[2].status == ReviewStatus.same and found[2].match.target_id == notebook_id
    assert any(sanka in m for m in found[2].messages)  # not a professional of the admin's structure
    assert (found[3].status, found[3].messages) == (
        ReviewStatus.conflict, ["Aucun carnet suivi par votre structure ne porte cet identifiant."])
    assert found[4].status == ReviewStatus.conflict

    done = await apply(notebook, admin, ImportKind.referents, batch[:1], structure_id=territory.mission_locale)
    assert done[2].outcome == Outcome.updated
    members = dict(await all_of(notebook, select(Member.person_id, Member.member_type).where(
        Member.notebook_id == notebook_id, Member.ended_at.is_(None))))
    assert members == {territory.pierre: "referent", territory.simon: "no_referent"}
    added = [e for e in await notebook.events(c.MemberAddedV1.subject) if e.notebook_id == notebook_id]
    assert {(e.person_id, e.invited_by_name) for e in added} == {(territory.pierre, "Jacques Célaire"),
                                                                 (territory.simon, "Jacques Célaire")}

    again = await apply(notebook, admin, ImportKind.referents, batch[:1])
    assert (again[2].outcome, again[2].messages[0]) == (Outcome.rejected, "Ce rattachement existe déjà.")
    denied = await refused(apply(notebook, admin, ImportKind.referents, batch[:1], structure_id=territory.groupe_ns))
    assert denied.code == ErrorCode.forbidden  # not one of the admin's structures


# --- réorientations (spec §4.1 F) ---------------------------------------------------------------------------

async def followed_by_pierre(notebook, territory) -> uuid.UUID:
    done = await apply(notebook, territory.manager, ImportKind.beneficiaries, rows(person(
        firstname="Janie", lastname="Herring", born="2002-02-19", external_id="SI-30",
        referent_email=email("Pierre", territory.id))))
    return done[2].target_id


def janie(**values) -> dict:
    return {"firstname": "janie", "lastname": "HERRING", "date_of_birth": "2002-02-19", **values}


async def group_of(notebook, notebook_id):
    members = dict(await all_of(notebook, select(Member.person_id, Member.member_type).where(
        Member.notebook_id == notebook_id, Member.ended_at.is_(None))))
    structures = dict(await all_of(notebook, select(BeneficiaryStructure.structure_id, BeneficiaryStructure.status)
                                   .where(BeneficiaryStructure.notebook_id == notebook_id)))
    return members, structures


async def test_reorientation_changes_the_referent_and_the_structure(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await followed_by_pierre(notebook, territory)
    batch = rows(janie(referents_to_add=[email("Sanka", territory.id)]),
                 {"firstname": "Personne", "lastname": "Inconnue", "date_of_birth": "2000-01-01",
                  "referents_to_add": [email("Sanka", territory.id)]})
    found = await review(notebook, territory.manager, ImportKind.reorientations, batch)
    assert (found[2].status, found[2].changed) == (ReviewStatus.same, ["referents_to_add"])
    assert (found[3].status, found[3].messages) == (ReviewStatus.conflict, ["Ce bénéficiaire est introuvable."])

    elsewhere = await new_territory(notebook, token_mint)
    found = await review(notebook, elsewhere.manager, ImportKind.reorientations, batch[:1])
    assert (found[2].status, found[2].match, found[2].messages) == (
        ReviewStatus.conflict, None, ["Ce bénéficiaire est introuvable."])  # not in that manager's territory

    done = await apply(notebook, territory.manager, ImportKind.reorientations, batch)
    assert (done[2].outcome, done[3].outcome) == (Outcome.updated, Outcome.rejected)
    members, structures = await group_of(notebook, notebook_id)
    assert members == {territory.sanka: "referent"}  # the former référent left
    assert structures == {territory.mission_locale: "outdated", territory.groupe_ns: "current"}
    [changed] = [e for e in await notebook.events(c.ReferentChangedV1.subject)
                 if e.notebook_id == notebook_id and e.referent_id == territory.sanka]
    assert changed.previous_referent_id == territory.pierre
    assert await scalar(notebook, select(TimelineEvent.source).where(
        TimelineEvent.notebook_id == notebook_id, TimelineEvent.subject_id == territory.sanka)) == "import"


async def test_reorientation_removes_a_referent_or_changes_the_structure_only(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await followed_by_pierre(notebook, territory)
    pierre, simon = email("Pierre", territory.id), email("Simon", territory.id)

    found = await review(notebook, territory.manager, ImportKind.reorientations, rows(
        janie(referents_to_remove=[simon])))
    assert (found[2].status, found[2].changed) == (ReviewStatus.same, [])  # nothing to do, and said so
    assert found[2].messages == [f"Le bénéficiaire n'était pas suivi par cette personne. ({simon})"]

    batch = rows(janie(referents_to_remove=[pierre]))
    done = await apply(notebook, territory.manager, ImportKind.reorientations, batch)
    assert done[2].outcome == Outcome.updated
    members, _ = await group_of(notebook, notebook_id)
    assert members == {}
    again = await apply(notebook, territory.manager, ImportKind.reorientations, batch)  # another import
    assert (again[2].outcome, again[2].messages) == (
        Outcome.unchanged, [f"Le bénéficiaire n'était pas suivi par cette personne. ({pierre})"])

    # Followed again by Pierre, then moved to the Groupe NS without a new référent: Pierre leaves.
    await apply(notebook, territory.manager, ImportKind.reorientations, rows(janie(referents_to_add=[pierre])))
    done = await apply(notebook, territory.manager, ImportKind.reorientations, rows(
        janie(structure_names=["Groupe NS"]), janie(structure_names=["Groupe NS"]),
        janie(structure_names=["Structure fantôme"])))
    assert [done[r].outcome for r in (2, 3, 4)] == [Outcome.updated, Outcome.unchanged, Outcome.rejected]
    members, structures = await group_of(notebook, notebook_id)
    assert members == {}
    assert structures == {territory.mission_locale: "outdated", territory.groupe_ns: "current"}


async def test_reorientation_inside_the_same_structure(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    notebook_id = await followed_by_pierre(notebook, territory)
    done = await apply(notebook, territory.manager, ImportKind.reorientations, rows(janie(
        referents_to_add=[email("Simon", territory.id)], referents_to_remove=[email("Pierre", territory.id)],
        structure_names=["Groupe NS"])))
    assert done[2].outcome == Outcome.updated
    assert any("ignoré" in m for m in done[2].messages)
    members, structures = await group_of(notebook, notebook_id)
    assert members == {territory.simon: "referent"}
    assert structures == {territory.mission_locale: "current"}


async def test_a_professional_holding_no_orientation_system_becomes_referent_as_in_v1(notebook, token_mint):
    territory = await new_territory(notebook, token_mint)
    nadia = uuid.uuid4()
    await notebook.deliver(ProfessionalCreatedV1(
        profile_id=nadia, deployment_id=territory.id, firstname="Nadia", lastname="Sans", structure_ids=[
            territory.mission_locale], email=email("Nadia", territory.id)))
    waiting_id = await waiting(notebook, territory)
    done = await apply(notebook, territory.admin(territory.mission_locale), ImportKind.referents, rows(
        {"notebook_id": str(waiting_id), "referent_emails": [email("Nadia", territory.id)]}))
    assert done[2].outcome == Outcome.updated
    [(system_id, member_type)] = await all_of(notebook, select(Member.orientation_system_id, Member.member_type)
                                               .where(Member.notebook_id == waiting_id, Member.ended_at.is_(None)))
    assert (system_id, member_type) == (None, "referent")

    followed_id = await followed_by_pierre(notebook, territory)
    done = await apply(notebook, territory.manager, ImportKind.reorientations, rows(janie(
        referents_to_add=[email("Nadia", territory.id)])))
    assert done[2].outcome == Outcome.updated
    members, _ = await group_of(notebook, followed_id)
    assert members == {nadia: "referent"}
    assert await scalar(notebook, select(Notebook.orientation_system_id).where(
        Notebook.id == followed_id)) == territory.system  # Pierre's, kept
    [changed] = [e for e in await notebook.events(c.ReferentChangedV1.subject)
                 if e.notebook_id == followed_id and e.referent_id == nadia]
    assert changed.previous_referent_id == territory.pierre
