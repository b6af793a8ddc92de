"""Reading the audit trail (issue 21 item 3), through the audit service's broker in memory, on SQLite and
PostgreSQL: a territory's managers read its lines only, filtered by period (Paris days, both included), account,
notebook and action; admin_cdb reads every territory's; anyone else is refused."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from contracts.audit import IdentityAuditRecordedV1, ListAuditLinesV1, NotebookAuditRecordedV1
from contracts.base import ErrorCode
from contracts.identity import Role
from testkit.handlers import (  # noqa: F401  (fixtures)
    handler_databases,
    refused,
    service_under_test,
    services_under_test,
    token_mint,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def audit(service_under_test):  # noqa: F811
    return await service_under_test("audit")


async def test_managers_read_their_territory_s_lines_filtered_by_period_account_notebook_and_action(
        audit, token_mint):  # noqa: F811
    here, elsewhere, pierre, notebook = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def read(at: datetime, deployment_id=here, actor=pierre, action="notebook.read", kind=NotebookAuditRecordedV1):
        return kind(deployment_id=deployment_id, actor_account_id=actor, actor_role="professional", action=action,
                    target_type="notebook", target_id=str(notebook), notebook_id=notebook, occurred_at=at)
    lines = {
        "10 mars": read(datetime(2026, 3, 10, 9, tzinfo=UTC)),
        "12 mars": read(datetime(2026, 3, 12, 9, tzinfo=UTC)),
        "12 mars, changé": read(datetime(2026, 3, 12, 10, tzinfo=UTC), action="notebook.changed"),
        "12 mars, un autre": read(datetime(2026, 3, 12, 11, tzinfo=UTC), actor=uuid.uuid4()),
        "13 mars à 0 h 30 à Paris": read(datetime(2026, 3, 12, 23, 30, tzinfo=UTC)),
        "ailleurs": read(datetime(2026, 3, 12, 9, tzinfo=UTC), deployment_id=elsewhere),
        "connexion": read(datetime(2026, 3, 12, 12, tzinfo=UTC), action="account.link_used",
                          kind=IdentityAuditRecordedV1),
    }
    for event in lines.values():
        await audit.deliver(event)
    manager = token_mint.token(Role.manager, deployment_id=here)

    def key(line) -> tuple:
        return line.occurred_at, line.action, line.deployment_id, line.actor_account_id

    async def found(token: str, **filters) -> set[str]:
        """The names of this test's lines among those read (admin_cdb also reads the other tests' lines)."""
        reply = await audit.call(ListAuditLinesV1(limit=5000, **filters), token)
        read = {key(line) for line in reply.lines}
        return {name for name, event in lines.items() if key(event) in read}

    assert await found(manager) == set(lines) - {"ailleurs"}
    assert await found(manager, period_from=date(2026, 3, 11), period_to=date(2026, 3, 12)) == {
        "12 mars", "12 mars, changé", "12 mars, un autre", "connexion"}
    assert await found(manager, period_from=date(2026, 3, 13)) == {"13 mars à 0 h 30 à Paris"}
    assert await found(manager, period_to=date(2026, 3, 10)) == {"10 mars"}
    assert await found(manager, period_from=date(2026, 3, 12), period_to=date(2026, 3, 12),
                       actor_account_id=pierre, action="notebook.read") == {"12 mars"}
    assert await found(manager, notebook_id=notebook, action="account.link_used") == {"connexion"}
    assert await found(manager, notebook_id=uuid.uuid4()) == set()
    assert await found(token_mint.token(Role.manager, deployment_id=elsewhere)) == {"ailleurs"}
    assert await found(token_mint.token(Role.admin_cdb)) == set(lines)
    for role in (Role.professional, Role.beneficiary):
        error = await refused(audit.call(ListAuditLinesV1(), token_mint.token(role, deployment_id=here)))
        assert error.code == ErrorCode.forbidden
