"""The audit journal says what happened in French: a change of a notebook names its operation (« Mise à jour du
diagnostic »), never the RPC subject served (« rpc.notebook.update_diagnostic.v1 »), nor a partner's message
subject; a line written without an account says « Système » (or the partner) in the « Compte » column; an action or
an operation without a label reads as words. On the page and in its CSV."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from html import unescape

import pytest

from contracts.audit import AuditLinesReply, AuditLineView, ListAuditLinesV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.registry import load_all
from gateway.web.audit_pages import OPERATIONS, action_label, operation_label
from services.gateway.tests.fake_bus import FakeRpc, visit

pytestmark = pytest.mark.unit
MANAGER = MeReply(account_id=uuid.uuid4(), email="manager@carnet.fr", phone=None, role=Role.manager,
                  deployment_id=uuid.uuid4(), profile_id=uuid.uuid4(), structure_ids=[], firstname="Agathe",
                  lastname="Deblouze")
NOTEBOOK = uuid.uuid4()


def line(seq: int, action: str, role: str, details: dict[str, str], account: uuid.UUID | None = None):
    at = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    return AuditLineView(seq=seq, recorded_at=at, occurred_at=at, deployment_id=MANAGER.deployment_id,
                         actor_account_id=account, actor_role=role, action=action, target_type="notebook",
                         target_id=str(NOTEBOOK), notebook_id=NOTEBOOK, details=details)


LINES = [
    line(1, "notebook.changed", "system", {"rpc": "rpc.notebook.update_diagnostic.v1"}),
    line(2, "partner.message", "partner", {"partner": "cd93", "subject": "partner.cd93.notebook.upsert.v1",
                                           "outcome": "updated"}),
    line(3, "notebook.changed", "professional", {"rpc": "rpc.notebook.some_new_thing.v2"}, account=uuid.uuid4()),
    line(4, "account.something_new", "system", {}),
]


@pytest.mark.parametrize("path", ["/journal", "/journal.csv"])
async def test_the_journal_names_operations_in_french_and_the_system_for_lines_without_account(path):
    answer = await visit(FakeRpc({GetMeV1: MANAGER, ListAuditLinesV1: AuditLinesReply(total=4, lines=LINES)}), path)
    assert answer.status_code == 200, answer.text
    text = unescape(answer.text)
    visible = re.sub(r"<[^>]+>", " ", text)  # the filter's options keep the codes as their values
    assert "rpc." not in visible and "partner.cd93" not in visible and "notebook.changed" not in visible
    assert "partner.cd93" not in text
    assert "Opération : Mise à jour du diagnostic" in text
    assert "Message : Carnet envoyé par un partenaire" in text and "Résultat : mis à jour" in text
    assert "Opération : Some new thing" in text and "Something new" in text  # no label yet: words, not a code
    if path == "/journal":
        rows = text.split("<tbody>")[1].split("</tr>")
        assert '<td class="nowrap">1</td>' in rows[0] and "<td>Système</td>" in rows[0]
        assert "<td>Partenaire</td>" in rows[1]
        assert f'<a href="/journal?acteur={LINES[2].actor_account_id}">' in rows[2]
    else:
        assert ";Système;" in text and ";Partenaire;" in text


def test_every_rpc_that_changes_a_notebook_has_a_french_operation():
    reads = ("get_", "list_", "search", "query_", "recent", "referentials", "dashboard", "territory_", "waiting_",
             "render_")
    changes = {subject.split(".")[2] for subject, _ in load_all()
               if subject.startswith("rpc.notebook.") and not subject.split(".")[2].startswith(reads)}
    assert {"update_diagnostic", "book_appointment", "apply_partner_notebook"} <= changes
    assert changes - set(OPERATIONS) == set()


def test_a_subject_or_code_without_label_reads_as_words():
    assert operation_label("rpc.notebook.update_diagnostic.v1") == "Mise à jour du diagnostic"
    assert operation_label("partner.cd93.appointment.upsert.v1") == "Rendez-vous envoyé par un partenaire"
    assert operation_label("rpc.notebook.brand_new.v1") == "Brand new"
    assert action_label("notebook.read") == "Consultation du carnet"
    assert action_label("import.brand_new") == "Brand new"
