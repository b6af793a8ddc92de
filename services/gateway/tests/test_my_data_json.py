"""« Mes données », the JSON a beneficiary downloads (issue 20 walkthrough): the codes a person reads come as the
French words of contracts.labels (the PDF's), by the list they come in (an action « planned » is « En projet », an
appointment « Prévu »); the keys stay as they are, and so do names, dates and free texts. The API's /me/data keeps the
codes for software. Through the gateway's routes with a fake bus."""
from __future__ import annotations

import json
import uuid

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.labels import readable_codes
from contracts.rights import (
    GetIdentitySubjectDataV1,
    GetImportSubjectDataV1,
    GetNotebookSubjectDataV1,
    GetNotifySubjectDataV1,
    SubjectDataReply,
    SubjectDataSection,
)
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
SOPHIE = MeReply(account_id=uuid.uuid4(), email="sophie@demo.carnet.test", phone=None, role=Role.beneficiary,
                 deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), firstname="Sophie", lastname="Tifour")
NOTEBOOK = [
    SubjectDataSection(service="notebook", key="identity", title="Identité", data={
        "firstname": "Sophie", "right_rsa": "rsa_droit_ouvert_versable", "notification_channels": ["sms", "email"],
        "work_situation": "recherche_emploi", "education_level": "NV4", "city": "referent"}),
    SubjectDataSection(service="notebook", key="members", title="Groupe", data={
        "membres": [{"member_type": "referent", "person": {"firstname": "Pierre"}}]}),
    SubjectDataSection(service="notebook", key="parcours", title="Plan d'action", data=[
        {"theme": "emploi", "targets": [{"status": "in_progress", "actions": [{"status": "planned"}]}]}]),
    SubjectDataSection(service="notebook", key="appointments", title="Rendez-vous", data=[
        {"status": "planned", "at": "2026-12-01T14:00:00+00:00"}]),
    SubjectDataSection(service="notebook", key="contracts", title="Contrats", data=[
        {"kind": "cer", "status": "signed"}]),
    SubjectDataSection(service="notebook", key="history", title="Historique", data=[
        {"evenement": "planned", "origine": "import"}]),
]
IDENTITY = [SubjectDataSection(service="identity", key="account", title="Compte", data={
    "statut": "active", "role": "beneficiary"})]


def bus() -> FakeRpc:
    return FakeRpc({GetMeV1: SOPHIE, GetNotebookSubjectDataV1: SubjectDataReply(sections=NOTEBOOK),
                    GetIdentitySubjectDataV1: SubjectDataReply(sections=IDENTITY),
                    GetNotifySubjectDataV1: SubjectDataReply(), GetImportSubjectDataV1: SubjectDataReply()})


def section(document: dict, key: str):
    return next(s["data"] for s in document["sections"] if s["key"] == key)


async def test_her_json_says_the_codes_in_french_and_keeps_its_keys():
    response = await visit(bus(), "/mon-carnet/mes-donnees/json")
    assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
    document = json.loads(response.content)
    identity = section(document, "identity")
    assert list(identity) == ["firstname", "right_rsa", "notification_channels", "work_situation",
                              "education_level", "city"]
    assert identity["right_rsa"] == "Droit ouvert et versable"
    assert identity["notification_channels"] == ["SMS", "courriel"]
    assert identity["work_situation"] == "En recherche d'emploi" and identity["education_level"] == "Bac ou équivalent"
    assert identity["firstname"] == "Sophie" and identity["city"] == "referent"  # not a code where it stands
    assert section(document, "members")["membres"][0]["member_type"] == "Référent"
    [focus] = section(document, "parcours")
    assert focus["targets"][0]["status"] == "En cours" and focus["targets"][0]["actions"][0]["status"] == "En projet"
    assert section(document, "appointments") == [{"status": "Prévu", "at": "2026-12-01T14:00:00+00:00"}]
    assert section(document, "contracts") == [{"kind": "Contrat d'Engagement Réciproque (CER)", "status": "Signé"}]
    assert section(document, "history") == [{"evenement": "planned", "origine": "Import de fichier"}]
    assert section(document, "account") == {"statut": "actif", "role": "Bénéficiaire"}
    assert [s["key"] for s in document["sections"]] == [s.key for s in NOTEBOOK + IDENTITY]


async def test_the_api_keeps_the_codes_for_software():
    document = (await visit(bus(), "/api/v1/me/data")).json()
    assert section(document, "identity")["right_rsa"] == "rsa_droit_ouvert_versable"


def test_a_value_that_is_no_code_is_left_as_it_is():
    assert readable_codes({"status": 3, "kind": None, "notes": ["planned"]}, "actions") == {
        "status": 3, "kind": None, "notes": ["planned"]}
