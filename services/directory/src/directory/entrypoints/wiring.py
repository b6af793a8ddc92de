"""Binds directory's RPC subjects and event subscriptions to their use cases."""
from __future__ import annotations

from functools import partial

from contracts import directory as contract
from contracts.identity import AccountProfileChangedV1
from contracts.imports import ApplyDirectoryImportV1, ReviewDirectoryImportV1
from contracts.notify import MessageFailedV1
from contracts.profiles import BeneficiaryCreatedV1, BeneficiaryDeactivatedV1
from contracts.transfers import TransferAcceptedV1
from directory.handlers import consumers, deployments, imports, people, structures
from directory.handlers.deps import Deps
from directory.handlers.seed_demo_territory import seed_demo_territory
from servicekit.app import Service
from servicekit.consumers import Subscription

ROUTES = {
    contract.CreateDeploymentV1: deployments.create_deployment,
    contract.ListDeploymentsV1: deployments.list_deployments,
    contract.GetDeploymentV1: deployments.get_deployment,
    contract.CreateOrientationSystemV1: deployments.create_orientation_system,
    contract.ListOrientationSystemsV1: deployments.list_orientation_systems,
    contract.CreateStructureV1: structures.create_structure,
    contract.UpdateStructureV1: structures.update_structure,
    contract.GetStructureV1: structures.get_structure,
    contract.SearchStructuresV1: structures.search_structures,
    contract.CreatePersonV1: people.create_person,
    contract.UpdatePersonV1: people.update_person,
    contract.GetPersonV1: people.get_person,
    contract.DeactivatePersonV1: people.deactivate_person,
    contract.SearchPeopleV1: people.search_people,
    contract.SeedDemoTerritoryV1: seed_demo_territory,
    ReviewDirectoryImportV1: imports.review_import,
    ApplyDirectoryImportV1: imports.apply_import,
}
SUBSCRIPTIONS = (
    ("directory-beneficiary-created", BeneficiaryCreatedV1, consumers.on_beneficiary_created),
    ("directory-beneficiary-deactivated", BeneficiaryDeactivatedV1, consumers.on_beneficiary_deactivated),
    ("directory-account-profile-changed", AccountProfileChangedV1, consumers.on_account_profile_changed),
    ("directory-message-failed", MessageFailedV1, consumers.on_message_failed),
    ("directory-transfer-accepted", TransferAcceptedV1, consumers.on_transfer_accepted),
)


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    for durable, event_type, handler in SUBSCRIPTIONS:
        service.subscribe(Subscription(durable=durable, event_type=event_type, handler=partial(handler, deps=deps)))
