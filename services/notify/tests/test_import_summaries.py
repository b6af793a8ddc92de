"""The summary of a CAF/MSA flux import to its uploader (issue 16, item 1; spec §3.13), from the import service's
``ImportCompletedV1``, on SQLite and PostgreSQL: once per event, with the counts and the flux's date, a failure
said too (v1 stayed silent), and nothing for the other kinds."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from contracts.imports import ImportCompletedV1, ImportCounts, ImportKind, ImportState, ReviewCounts
from contracts.notify import ReadDevMailboxV1
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


@pytest.fixture
async def notify(service_under_test) -> InMemoryService:
    return await service_under_test("notify")


def completed(email: str, **fields) -> ImportCompletedV1:
    values = {"import_id": uuid.uuid4(), "kind": ImportKind.caf_msa, "deployment_id": uuid.uuid4(),
              "account_id": uuid.uuid4(), "filename": "RSABEM.xml", "state": ImportState.done,
              "counts": ImportCounts(updated=2, unchanged=1, rejected=5, excluded=1), "account_email": email,
              "rows_total": 9, "review": ReviewCounts(same=4, conflict=3, invalid=1), "flux_date": date(2022, 3, 5),
              **fields}
    return ImportCompletedV1(**values)


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


def an_email() -> str:
    return f"agathe.{uuid.uuid4().hex[:8]}@cd93.fr"


async def test_the_uploader_gets_the_summary_of_a_flux_once(notify):
    email = an_email()
    event = completed(email)
    await notify.deliver(event)
    await notify.deliver(event)  # redelivered

    [message] = await mailbox(notify, email)
    assert message.subject == "Récapitulatif suite à l'import du fichier CAF/MSA du 05/03/2022"
    for line in ("Foyers dans le fichier : 9", "mis à jour : 2", "Foyers sans changement : 1",
                 "sans bénéficiaire connu sur votre territoire : 3", "Foyers en erreur : 2",  # 1 invalid, 1 refused when applied
                 "Foyers que vous avez exclus : 1"):
        assert line in message.text
    assert message.links[0].endswith(f"/imports/{event.import_id}")


async def test_a_failed_flux_is_said_with_its_reason(notify):
    email = an_email()
    await notify.deliver(completed(email, state=ImportState.failed, flux_date=None, rows_total=0,
                                   counts=ImportCounts(), review=ReviewCounts(),
                                   reason="Le fichier « x.xml » n'est pas un flux CAF/MSA valide : DOCTYPE.",
                                   occurred_at=datetime(2026, 11, 28, 23, 30, tzinfo=UTC)))
    [message] = await mailbox(notify, email)
    # Without a flux date, the day of the import (in Paris: already the 29th).
    assert message.subject == "Échec de l'import du fichier CAF/MSA du 29/11/2026"
    assert "n'a pas été importé" in message.text and "DOCTYPE" in message.text
    assert "&" not in message.subject


async def test_no_summary_for_other_kinds_nor_without_an_address(notify):
    email = an_email()
    await notify.deliver(completed(email, kind=ImportKind.beneficiaries))
    await notify.deliver(completed(""))
    assert await mailbox(notify, email) == []
