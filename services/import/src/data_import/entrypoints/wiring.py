"""Binds the import service's RPC subjects to their use cases, and its background work to the service."""
from __future__ import annotations

from functools import partial

from contracts import imports as contract
from data_import.handlers import apply, files, opening, queries, subject_data
from data_import.handlers.deps import Deps
from data_import.entrypoints import partner_consumer
from data_import.handlers.jobs import Jobs
from servicekit.app import Service
from contracts.retention import RetentionDueV1
from contracts.rights import GetImportSubjectDataV1
from data_import.handlers import retention
from servicekit.consumers import Subscription

ROUTES = {
    contract.OpenImportV1: opening.open_import,
    contract.GetImportV1: queries.get_import,
    contract.ListImportsV1: queries.list_imports,
    contract.ListImportRowsV1: queries.list_rows,
    contract.GetImportReportV1: files.report,
    contract.GetImportTemplateV1: files.template,
    GetImportSubjectDataV1: subject_data.get_subject_data,
}
# These start background work: they need the jobs of this replica.
JOB_ROUTES = {
    contract.FinishUploadV1: opening.finish_upload,
    contract.ApplyImportV1: apply.apply_import_rpc,
}


def register(service: Service, deps: Deps) -> Jobs:
    jobs = Jobs(deps)
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    for request_type, handler in JOB_ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps, jobs=jobs))
    # At start, then every few seconds: imports left by a replica that died (or by this one before a restart).
    service.add_task(jobs.resume_forever, f"{service.name}-imports")
    partner_consumer.register(service, deps)
    # Retention (issue 21): the rows about a beneficiary whose notebook expired lose her values.
    service.subscribe(Subscription(durable=retention.CONSUMER, event_type=RetentionDueV1, ack_wait_s=600,
                                   handler=partial(retention.on_retention_due, deps=deps)))
    return jobs
