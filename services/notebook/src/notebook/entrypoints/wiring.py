"""Binds notebook's RPC subjects and event subscriptions to their use cases."""
from __future__ import annotations

from functools import partial

from contracts import bilans as bilan_contract
from contracts import notebook as contract
from contracts import transfers as transfer_contract
from contracts.exchanges import ListExchangesV1, PostExchangeV1, ReplyExchangeV1
from contracts import bulk_orientation as bulk_contract
from contracts.directory import OrientationSystemCreatedV1, StructureCreatedV1, StructureUpdatedV1
from contracts.imports import ApplyNotebookImportV1, ImportCompletedV1, ReviewNotebookImportV1
from contracts.notify import MessageFailedV1
from contracts.partners import ApplyPartnerAppointmentV1, ApplyPartnerNotebookV1, CreatePartnerNotebookV1
from contracts.profiles import PROFILE_DEACTIVATED_EVENTS, PROFILE_STATE_EVENTS, DeploymentCreatedV1
from notebook.handlers import bilans
from notebook.handlers import transfers
from notebook.handlers import exchanges
from notebook.handlers import bulk_orientation
from notebook.handlers import (
    appointments,
    beneficiaries,
    contracts,
    diagnostic,
    digests,
    france_travail,
    imports,
    members,
    orientation,
    page,
    parcours,
    partner_notebooks,
    read_models,
    referentials,
    search,
    seed_demo,
    timeline,
)
from notebook.handlers.deps import Deps
from contracts import pilotage as pilotage_contract
from notebook.handlers import exports
from notebook.adapters import pilotage_events
from notebook.handlers import pilotage_actions, pilotage_facts, pilotage_queries
from contracts.pilotage import GetPilotageDashboardV1
from notebook.handlers import pilotage_dashboard, pilotage_imports, pilotage_snapshots
from contracts import retention as retention_contract
from notebook.handlers import retention
from contracts import rights as rights_contract
from notebook.handlers import rights_requests, subject_data
from contracts import orientation_requests as orientation_requests_contract
from notebook.handlers import reorientation_requests
from servicekit.app import Service
from servicekit.consumers import Subscription

ROUTES = {
    contract.CreateBeneficiaryV1: beneficiaries.create_beneficiary,
    contract.UpdateBeneficiaryV1: beneficiaries.update_beneficiary,
    contract.GetNotebookPageV1: page.get_page,
    contract.SearchNotebooksV1: search.search,
    contract.RecentNotebooksV1: search.recent,
    contract.GetDashboardV1: search.dashboard,
    contract.JoinNotebookV1: members.join,
    contract.InviteMemberV1: members.invite,
    contract.LeaveNotebookV1: members.leave,
    contract.AssignReferentV1: members.assign_referent,
    contract.AssignOrientationManagerV1: members.assign_orientation_manager,
    contract.RemoveMemberV1: members.remove_member,
    contract.RequestReorientationV1: orientation.request_reorientation,
    contract.DenyReorientationV1: orientation.deny_reorientation,
    contract.ChangeOrientationV1: orientation.change_orientation,
    contract.UpdateDiagnosticV1: diagnostic.update_diagnostic,
    contract.SearchRomeCodesV1: referentials.search_rome_codes,
    contract.GetReferentialsV1: referentials.get_referentials,
    contract.AddFocusV1: parcours.add_focus,
    contract.AddTargetV1: parcours.add_target,
    contract.UpdateTargetV1: parcours.update_target,
    contract.AddActionV1: parcours.add_action,
    contract.UpdateActionV1: parcours.update_action,
    contract.DeleteParcoursItemV1: parcours.delete_item,
    contract.BookAppointmentV1: appointments.book_appointment,
    contract.UpdateAppointmentV1: appointments.update_appointment,
    contract.RedactTimelineEntryV1: timeline.redact,
    contract.SeedDemoNotebooksV1: seed_demo.seed_demo,
    contract.ListWaitingForReferentV1: digests.waiting_for_referent,
    contract.RefreshFranceTravailV1: france_travail.refresh,
    contract.ListContractsV1: contracts.list_contracts,
    contract.GetContractV1: contracts.get_contract,
    contract.GetContractPdfV1: contracts.get_contract_pdf,
    contract.CreateContractDraftV1: contracts.create_draft,
    contract.UpdateContractV1: contracts.update_contract,
    contract.SubmitContractV1: contracts.submit_contract,
    contract.DecideContractV1: contracts.decide_contract,
    contract.SignContractV1: contracts.sign_contract,
    contract.EndContractV1: contracts.end_contract,
    contract.RecordContractV1: contracts.record_contract,
    contract.ListContractsToValidateV1: contracts.contracts_to_validate,
    contract.ListContractsEndingV1: contracts.contracts_ending,
    ListExchangesV1: exchanges.list_exchanges,
    PostExchangeV1: exchanges.post_exchange,
    ReplyExchangeV1: exchanges.reply_exchange,
    bilan_contract.ListBilansV1: bilans.list_bilans,
    bilan_contract.PrepareBilanV1: bilans.prepare_bilan,
    bilan_contract.CreateBilanV1: bilans.create_bilan,
    bilan_contract.GetBilanV1: bilans.get_bilan,
    bilan_contract.GetBilanPdfV1: bilans.get_bilan_pdf,
    transfer_contract.GetNotebookTransfersV1: transfers.get_notebook_transfers,
    transfer_contract.ListTransfersV1: transfers.list_transfers,
    transfer_contract.RequestTransferV1: transfers.request_transfer,
    transfer_contract.DecideTransferV1: transfers.decide_transfer,
    transfer_contract.GrantReferralV1: transfers.grant_referral,
    ReviewNotebookImportV1: imports.review_import,
    ApplyNotebookImportV1: imports.apply_import,
    CreatePartnerNotebookV1: partner_notebooks.create_partner_notebook,
    ApplyPartnerNotebookV1: partner_notebooks.apply_partner_notebook,
    ApplyPartnerAppointmentV1: partner_notebooks.apply_partner_appointment,
    bulk_contract.OrientInBulkV1: bulk_orientation.orient_in_bulk,
    bulk_contract.GetTerritoryOrientationOptionsV1: bulk_orientation.territory_options,
    orientation_requests_contract.ListOpenReorientationRequestsV1: reorientation_requests.list_open_requests,
    GetPilotageDashboardV1: pilotage_dashboard.get_dashboard,
    pilotage_contract.StartExportV1: exports.start_export,
    pilotage_contract.GetExportV1: exports.get_export,
    pilotage_contract.ListExportsV1: exports.list_exports,
    pilotage_contract.GetExportFileV1: exports.get_export_file,
    pilotage_contract.QueryBeneficiariesV1: pilotage_queries.query_beneficiaries,
    pilotage_contract.QueryActionsV1: pilotage_actions.query_actions,
    pilotage_contract.SaveQueryV1: pilotage_queries.save_query,
    pilotage_contract.ListSavedQueriesV1: pilotage_queries.list_saved_queries,
    pilotage_contract.GetSavedQueryV1: pilotage_queries.get_saved_query,
    pilotage_contract.DeleteSavedQueryV1: pilotage_queries.delete_saved_query,
    pilotage_contract.GetQueryChoicesV1: pilotage_queries.query_choices,
    rights_contract.GetNotebookSubjectDataV1: subject_data.get_subject_data,
    rights_contract.GetMySubjectValuesV1: subject_data.get_my_subject_values,
    rights_contract.RenderSubjectDataPdfV1: subject_data.render_pdf,
    rights_contract.CreateRightsRequestV1: rights_requests.create_request,
    rights_contract.ListRightsRequestsV1: rights_requests.list_requests,
    rights_contract.AnswerRightsRequestV1: rights_requests.answer_request,
}
# Directory's people (not the beneficiaries, whose profiles notebook owns), structures and orientation systems.
PEOPLE_STATES = tuple(e for e in PROFILE_STATE_EVENTS if e.subject.startswith("directory."))
PEOPLE_DEACTIVATIONS = tuple(e for e in PROFILE_DEACTIVATED_EVENTS if e.subject.startswith("directory."))
SUBSCRIPTIONS = (
    *((f"notebook-{e.subject.split('.')[1]}-{e.subject.split('.')[2]}", e, read_models.on_person_state)
      for e in PEOPLE_STATES),
    *((f"notebook-{e.subject.split('.')[1]}-deactivated", e, read_models.on_person_deactivated)
      for e in PEOPLE_DEACTIVATIONS),
    ("notebook-structure-created", StructureCreatedV1, read_models.on_structure_state),
    ("notebook-structure-updated", StructureUpdatedV1, read_models.on_structure_state),
    ("notebook-orientation-system-created", OrientationSystemCreatedV1, read_models.on_orientation_system_created),
    ("notebook-message-failed", MessageFailedV1, read_models.on_message_failed),
    (contracts.TERRITORY_CONSUMER, DeploymentCreatedV1, contracts.on_territory_created),
    # The dashboards' « Imports et flux »: each import as it ended (issue 18 item 3).
    (pilotage_imports.CONSUMER, ImportCompletedV1, pilotage_imports.on_import_completed),
)


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    for durable, event_type, handler in SUBSCRIPTIONS:
        service.subscribe(Subscription(durable=durable, event_type=event_type, handler=partial(handler, deps=deps)))
    if deps.france_travail is not None:
        service.add_task(partial(france_travail.run_refreshes, deps), name="notebook-france-travail")
        service.add_task(partial(france_travail.run_nights, deps), name="notebook-france-travail-nights")
    # Exports write their file in the consumer: a large one takes longer than the default 30 s before its ack.
    service.subscribe(Subscription(durable=exports.CONSUMER, event_type=pilotage_contract.ExportRequestedV1,
                                   handler=partial(exports.on_export_requested, deps=deps), ack_wait_s=600))
    # Pilotage's read model: every transaction publishes its changed notebooks, the consumer recomputes them, and
    # the notebooks without a row get one once at start.
    pilotage_events.install(deps.sessions, deps.outbox)
    service.subscribe(Subscription(durable=pilotage_facts.CONSUMER, event_type=pilotage_contract.NotebookChangedV1,
                                   handler=partial(pilotage_facts.on_notebook_changed, deps=deps)))
    # Then the dashboards' history: today's snapshot of the read model, taken once that rebuild is done (at start
    # when missing), checked hourly.
    service.add_task(partial(pilotage_snapshots.run_snapshots, deps), name="notebook-pilotage-snapshots")
    # Retention (issue 21): the managers' policy, the night's run, and the other services' confirmations of a purge.
    for request_type, handler in ((retention_contract.GetRetentionV1, retention.get_retention),
                                  (retention_contract.SetRetentionV1, retention.set_retention),
                                  (retention_contract.ExtendRetentionV1, retention.extend_retention),
                                  (retention_contract.RunRetentionV1, retention.run_now),
                                  (retention_contract.GetRetentionSubjectV1, retention.get_retention_subject)):
        service.handle(request_type, partial(handler, deps=deps))
    for event_type in retention_contract.PURGED_EVENTS:
        service.subscribe(Subscription(durable=f"notebook-retention-{event_type.service}", event_type=event_type,
                                       handler=partial(retention.on_purged, deps=deps), ack_wait_s=600))
    service.add_task(partial(retention.run_nights, deps), name="notebook-retention-nights")
    # The rights requests due within a week or late: their référent and managers are reminded once a day.
    service.add_task(partial(rights_requests.run_reminders, deps), name="notebook-rights-reminders")
