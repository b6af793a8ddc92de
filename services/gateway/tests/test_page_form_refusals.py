"""Page forms parsed by the API's body models (issue 20 item 3), through the gateway's routes with a fake bus: a bad
value is said in French, nothing is sent to the service, and the form comes back as it was typed; the good value is
sent as the API route would send it."""
from __future__ import annotations

import uuid
from datetime import date
from html import unescape

import pytest

from contracts.identity import GetMeV1, MeReply, Role
from contracts.retention import DueNotebook, ExtendRetentionV1, ExtensionReply, GetRetentionV1, RetentionReply
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
TERRITORY = uuid.uuid4()
LINDSAY = uuid.uuid4()
ME = MeReply(account_id=uuid.uuid4(), email="gestion@carnet.fr", phone=None, role=Role.manager,
             deployment_id=TERRITORY, profile_id=uuid.uuid4(), structure_ids=[], firstname="Gisèle", lastname="Gestion")


def retention_rpc() -> FakeRpc:
    return FakeRpc({GetMeV1: ME, GetRetentionV1: RetentionReply(months=24, due=[
        DueNotebook(notebook_id=LINDSAY, beneficiary_name="Lindsay", due_since=date(2026, 11, 1)),
        DueNotebook(notebook_id=uuid.uuid4(), beneficiary_name="Autre", due_since=date(2026, 11, 1))]),
        ExtendRetentionV1: ExtensionReply(extension_id=uuid.uuid4())})


async def test_a_bad_extension_is_said_in_french_kept_in_its_row_and_not_sent():
    rpc = retention_rpc()
    page = await visit(rpc, f"/territoire/conservation/{LINDSAY}/prolonger",
                       {"until": "31/12/2030", "reason": "Demande <du> juge"})
    assert page.status_code == 422
    assert "La date de fin n'est pas une date valide (AAAA-MM-JJ)." in unescape(page.text)
    assert f'id="until-{LINDSAY}" name="until" required value="31/12/2030"' in page.text
    assert "Demande &lt;du&gt; juge</textarea>" in page.text and page.text.count("</textarea>") == 2
    assert page.text.count("juge") == 1  # the other row's form stays empty
    assert rpc.sent(ExtendRetentionV1) == []


async def test_a_good_extension_is_sent_as_the_api_sends_it():
    rpc = retention_rpc()
    page = await visit(rpc, f"/territoire/conservation/{LINDSAY}/prolonger",
                       {"until": "2030-12-31", "reason": " Demande du juge "})
    assert page.status_code == 303 and page.headers["location"].endswith("notice=prolonge")
    assert rpc.sent(ExtendRetentionV1) == [ExtendRetentionV1(notebook_id=LINDSAY, until=date(2030, 12, 31),
                                                             reason="Demande du juge")]


async def test_a_bad_partner_name_is_said_in_french_with_the_territories_still_ticked():
    from contracts.directory import DeploymentsReply, DeploymentView, ListDeploymentsV1
    from contracts.partners import (
        CreatePartnerCredentialV1,
        ListPartnerCallsV1,
        ListPartnerCredentialsV1,
        PartnerCallsReply,
        PartnerCredentialsReply,
    )

    territories = [DeploymentView(deployment_id=uuid.uuid4(), label=name, department_code=code)
                   for name, code in (("Seine-Saint-Denis", "93"), ("Marne", "51"))]
    rpc = FakeRpc({GetMeV1: ME.model_copy(update={"role": Role.admin_cdb, "deployment_id": None}),
                   ListPartnerCredentialsV1: PartnerCredentialsReply(credentials=[]),
                   ListPartnerCallsV1: PartnerCallsReply(calls=[]),
                   ListDeploymentsV1: DeploymentsReply(deployments=territories)})
    page = await visit(rpc, "/partenaires", {"partner": "RDV Insertion", "deployment_ids": str(TERRITORY)})
    assert page.status_code == 422 and "Le partenaire" in unescape(page.text)
    page = await visit(rpc, "/partenaires", {"partner": "RDV <Insertion>",
                                             "deployment_ids": str(territories[1].deployment_id)})
    assert page.status_code == 422 and 'value="RDV &lt;Insertion&gt;"' in page.text
    assert f'value="{territories[1].deployment_id}" checked' in page.text
    assert f'value="{territories[0].deployment_id}" checked' not in page.text
    assert rpc.sent(CreatePartnerCredentialV1) == []
