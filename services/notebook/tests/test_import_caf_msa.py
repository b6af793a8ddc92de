"""The CAF/MSA flux applied by the notebook (issue 16, item 1; spec §4.2), as the import service sends its foyers,
on SQLite and PostgreSQL: matched by NIR within the uploader's territory only, every person of a foyer tried, the
RSA fields updated with a history entry from the import, the raw foyer kept encrypted once, a flux imported again
changing nothing, and who may import it."""
from __future__ import annotations

import base64
import json
import random
import uuid
import zlib
from datetime import date

import pytest
from sqlalchemy import select

from contracts import notebook as c
from contracts.base import ErrorCode
from contracts.identity import Role
from contracts.imports import (ApplyNotebookImportV1, ImportActor, ImportKind, ImportRowValues, Outcome,
                               ReviewNotebookImportV1, ReviewStatus)
from contracts.profiles import ManagerCreatedV1
from notebook.adapters.orm import Beneficiary, ExternalData, TimelineEvent
from notebook.domain.protection import FieldProtection
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration
FLUX = {"APPLIEME": "CRI", "TYPEFLUX": "M", "DTCREAFLUX": "2022-03-05"}


@pytest.fixture
async def notebook(service_under_test) -> InMemoryService:
    return await service_under_test("notebook")


def protection_of(notebook: InMemoryService) -> FieldProtection:
    return FieldProtection(notebook.service.settings.secret_key.get_secret_value().encode())


def a_nir(sex: str = "2") -> str:
    return f"{sex}8203{random.randrange(10 ** 8):08d}"


async def territory(notebook: InMemoryService, token_mint) -> tuple[ImportActor, str]:
    """A territory's manager: as the import service names them (actor), and their token (to create people)."""
    deployment_id, manager_id = uuid.uuid4(), uuid.uuid4()
    await notebook.deliver(ManagerCreatedV1(profile_id=manager_id, deployment_id=deployment_id, firstname="Agathe",
                                            lastname="Deblouze", email=f"agathe.{deployment_id}@test.carnet.fr"))
    actor = ImportActor(account_id=uuid.uuid4(), role=Role.manager, deployment_id=deployment_id,
                        profile_id=manager_id, name="Agathe Deblouze")
    return actor, token_mint.token(Role.manager, deployment_id=deployment_id, profile_id=manager_id)


async def beneficiary(notebook, token, firstname: str, nir: str, **fields) -> c.NotebookCreatedReply:
    return await notebook.call(c.CreateBeneficiaryV1(beneficiary=c.BeneficiaryFields(
        firstname=firstname, lastname="Tifour", date_of_birth=date(1982, 2, 1), nir=nir, **fields)), token)


def foyer(*persons: tuple[str, bool | None], right_rsa="rsa_clos", suspension=None, closure="caf_decision_pcg",
          closed_on="2021-11-30", homeless=False, caf_number="205599000000000", **raw) -> dict:
    """A foyer's values as the import service sends them (``data_import.domain.caf_msa``)."""
    data = {"flux": FLUX, "foyer": {"IdentificationRSA": {"Organisme": {"MATRICULE": caf_number}},
                                    "Personne": [{"Identification": {"NIR": nir}} for nir, _ in persons], **raw}}
    packed = base64.b64encode(zlib.compress(json.dumps(data).encode())).decode()
    return {"flux_date": FLUX["DTCREAFLUX"], "caf_number": caf_number, "nirs": [nir for nir, _ in persons],
            "duties": [duty for _, duty in persons], "right_rsa": right_rsa, "rsa_suspension_reason": suspension,
            "rsa_closure_reason": closure, "rsa_closure_date": closed_on, "is_homeless": homeless, "foyer": packed}


def rows(*values: dict) -> list[ImportRowValues]:
    return [ImportRowValues(row=n, values=v) for n, v in enumerate(values, start=1)]


async def review(notebook, actor, batch):
    reply = await notebook.call(ReviewNotebookImportV1(import_id=uuid.uuid4(), kind=ImportKind.caf_msa, actor=actor,
                                                       rows=batch))
    return {r.row: r for r in reply.results}


async def apply(notebook, actor, batch, import_id=None):
    reply = await notebook.call(ApplyNotebookImportV1(import_id=import_id or uuid.uuid4(), kind=ImportKind.caf_msa,
                                                      actor=actor, rows=batch))
    return {r.row: r for r in reply.results}


async def stored(notebook, beneficiary_id) -> Beneficiary:
    async with notebook.sessions() as session:
        return await session.get(Beneficiary, beneficiary_id)


async def external_data(notebook, beneficiary_id) -> list[ExternalData]:
    async with notebook.sessions() as session:
        return list((await session.execute(select(ExternalData).where(
            ExternalData.beneficiary_id == beneficiary_id).order_by(ExternalData.created_at))).scalars())


async def history(notebook, notebook_id) -> list[TimelineEvent]:
    async with notebook.sessions() as session:
        return list((await session.execute(select(TimelineEvent).where(
            TimelineEvent.notebook_id == notebook_id, TimelineEvent.kind == "beneficiary"))).scalars())


async def test_review_matches_each_person_by_nir_within_the_territory_only(notebook, token_mint):
    actor, token = await territory(notebook, token_mint)
    _elsewhere, other_token = await territory(notebook, token_mint)
    sophie, noel, eta, stranger = a_nir("2"), a_nir("1"), a_nir("2"), a_nir("1")
    await beneficiary(notebook, token, "Sophie", sophie)
    await beneficiary(notebook, token, "Eta", eta, right_rsa=c.RightRsa.droit_ouvert_versement_suspendu,
                      rsa_suspension_reason="caf_declaration_ressource_non_fournie", subject_to_right_and_duty=True,
                      caf_number="208956400000000")
    await beneficiary(notebook, other_token, "Ailleurs", stranger)

    found = await review(notebook, actor, rows(
        foyer((noel + "05", False), (sophie + "12", True)),  # 1: the second person is known (key dropped)
        foyer((stranger, True)),  # 2: another territory's beneficiary: no one here
        foyer((eta, True), right_rsa="rsa_droit_ouvert_versement_suspendu", closure=None, closed_on=None,
              suspension="caf_declaration_ressource_non_fournie", caf_number="208956400000000"),  # 3: as it is
        foyer(),  # 4: nobody with a NIR
        {**foyer((sophie, True)), "foyer": "pas du base64"},  # 5: unreadable
    ))

    assert found[1].status == ReviewStatus.same
    assert found[1].match.label == "Sophie Tifour, née le 01/02/1982"
    assert found[1].changed == ["caf_number", "right_rsa", "rsa_closure_date", "rsa_closure_reason",
                                "subject_to_right_and_duty", "foyer"]
    assert found[1].messages == [f"Aucun bénéficiaire de votre territoire n'a le NIR {noel[:5]}•••••{noel[-3:]} : "
                                 "cette personne du foyer est ignorée."]
    assert (found[2].status, found[2].match) == (ReviewStatus.conflict, None)  # nothing shown of the other
    assert found[2].messages[0].startswith("Aucun bénéficiaire de votre territoire n'a le NIR")
    assert (found[3].status, found[3].changed) == (ReviewStatus.same, ["foyer"])
    assert found[4].status == ReviewStatus.invalid and "NIR" in found[4].messages[0]
    assert found[5].status == ReviewStatus.invalid
    assert not await external_data(notebook, (await stored_by_nir(notebook, sophie)).id)  # a review writes nothing


async def stored_by_nir(notebook, nir: str) -> Beneficiary:
    async with notebook.sessions() as session:
        [found] = (await session.execute(select(Beneficiary).where(
            Beneficiary.nir_index == protection_of(notebook).index("nir", nir)))).scalars()
        return found


async def test_apply_updates_the_rsa_fields_keeps_the_foyer_once_and_a_second_import_changes_nothing(
        notebook, token_mint):
    actor, token = await territory(notebook, token_mint)
    _elsewhere, other_token = await territory(notebook, token_mint)
    sophie, noel, eta, stranger = a_nir("2"), a_nir("1"), a_nir("2"), a_nir("1")
    sophie_nb = await beneficiary(notebook, token, "Sophie", sophie, right_rsa=c.RightRsa.droit_ouvert_versable,
                                  rsa_suspension_reason="caf_hospitalisation")
    noel_nb = await beneficiary(notebook, token, "Noël", noel, subject_to_right_and_duty=True)
    eta_nb = await beneficiary(notebook, token, "Eta", eta)
    other = await beneficiary(notebook, other_token, "Ailleurs", stranger)
    flux = rows(
        foyer((sophie, True), (noel, False)),
        foyer((eta, None), right_rsa="rsa_droit_ouvert_versement_suspendu", closure=None, closed_on=None,
              suspension="caf_declaration_ressource_non_fournie", homeless=True, caf_number="208956400000000"),
        foyer((stranger, True), right_rsa="rsa_refuse"),
    )

    done = await apply(notebook, actor, flux)

    assert [done[n].outcome for n in (1, 2, 3)] == [Outcome.updated, Outcome.updated, Outcome.rejected]
    assert done[1].target_id == sophie_nb.notebook_id
    after = await stored(notebook, sophie_nb.beneficiary_id)
    assert (after.right_rsa, after.rsa_suspension_reason, after.rsa_closure_reason, after.rsa_closure_date,
            after.subject_to_right_and_duty, after.is_homeless) == (
        "rsa_clos", "", "caf_decision_pcg", date(2021, 11, 30), True, False)  # the old suspension is cleared
    assert protection_of(notebook).decrypt(after.caf_number_encrypted) == "205599000000000"
    assert (await stored(notebook, noel_nb.beneficiary_id)).subject_to_right_and_duty is False
    eta_after = await stored(notebook, eta_nb.beneficiary_id)
    assert (eta_after.right_rsa, eta_after.rsa_suspension_reason, eta_after.is_homeless) == (
        "rsa_droit_ouvert_versement_suspendu", "caf_declaration_ressource_non_fournie", True)
    untouched = await stored(notebook, other.beneficiary_id)
    assert (untouched.right_rsa, untouched.version) == (None, 1)  # another territory's beneficiary
    assert not await external_data(notebook, other.beneficiary_id)

    [entry] = await history(notebook, sophie_nb.notebook_id)
    assert entry.source == "import" and entry.author_name == "Agathe Deblouze"
    assert entry.summary.startswith("Droits RSA mis à jour par le flux CAF/MSA du 05/03/2022 : droit RSA")
    assert entry.changes["right_rsa"] == ["rsa_droit_ouvert_versable", "rsa_clos"]
    assert entry.changes["caf_number"] == ["", "•••"]  # an identifier is never written in clear in the history
    shown = await notebook.call(c.GetNotebookPageV1(notebook_id=sophie_nb.notebook_id), token)
    assert (shown.beneficiary.right_rsa, shown.rsa_flux_date) == (c.RightRsa.clos, date(2022, 3, 5))
    assert (await notebook.call(c.GetNotebookPageV1(notebook_id=eta_nb.notebook_id), token)).rsa_flux_date
    [kept] = await external_data(notebook, sophie_nb.beneficiary_id)
    assert (kept.source, kept.received_on, len(kept.sha256)) == ("cafmsa", date(2022, 3, 5), 64)
    assert "Personne" not in kept.data_encrypted  # encrypted at rest
    data = json.loads(protection_of(notebook).decrypt(kept.data_encrypted))
    assert data["flux"]["DTCREAFLUX"] == "2022-03-05" and data["foyer"]["Personne"][0]["Identification"]["NIR"]

    again = await apply(notebook, actor, flux)  # the same flux, another import

    assert [again[n].outcome for n in (1, 2, 3)] == [Outcome.unchanged, Outcome.unchanged, Outcome.rejected]
    assert len(await external_data(notebook, sophie_nb.beneficiary_id)) == 1
    assert len(await history(notebook, sophie_nb.notebook_id)) == 1
    assert (await stored(notebook, sophie_nb.beneficiary_id)).version == after.version


async def test_a_new_foyer_with_the_same_rights_is_kept_but_changes_no_field(notebook, token_mint):
    actor, token = await territory(notebook, token_mint)
    nir = a_nir()
    created = await beneficiary(notebook, token, "Sophie", nir)
    await apply(notebook, actor, rows(foyer((nir, True))))
    done = await apply(notebook, actor, rows(foyer((nir, True), DonneesAdministratives={"SITFAM": "MAR"})))
    assert done[1].outcome == Outcome.updated
    assert len(await external_data(notebook, created.beneficiary_id)) == 2
    assert len(await history(notebook, created.notebook_id)) == 1


async def test_a_batch_sent_again_is_answered_with_its_recorded_outcomes(notebook, token_mint):
    actor, token = await territory(notebook, token_mint)
    nir = a_nir()
    created = await beneficiary(notebook, token, "Sophie", nir)
    import_id = uuid.uuid4()
    first = await apply(notebook, actor, rows(foyer((nir, True))), import_id)
    second = await apply(notebook, actor, rows(foyer((nir, True))), import_id)
    assert first[1].outcome == second[1].outcome == Outcome.updated
    assert len(await external_data(notebook, created.beneficiary_id)) == 1


@pytest.mark.parametrize("role", [Role.admin_structure, Role.professional, Role.orientation_manager,
                                  Role.admin_cdb])
async def test_only_a_territory_manager_may_import_the_flux(notebook, token_mint, role):
    actor, _token = await territory(notebook, token_mint)
    other = actor.model_copy(update={"role": role})
    error = await refused(notebook.call(ApplyNotebookImportV1(
        import_id=uuid.uuid4(), kind=ImportKind.caf_msa, actor=other, rows=rows(foyer((a_nir(), True))))))
    assert error.code == ErrorCode.forbidden
    nowhere = actor.model_copy(update={"deployment_id": None})
    assert (await refused(notebook.call(ReviewNotebookImportV1(
        import_id=uuid.uuid4(), kind=ImportKind.caf_msa, actor=nowhere, rows=rows(foyer((a_nir(), True))))))
            ).code == ErrorCode.forbidden
