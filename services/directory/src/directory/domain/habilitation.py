"""Who may do what in the directory. Pure rules over explicit scopes; anything not listed is denied.

Scopes: the caller's deployment (territory), the structures they administer (structure admins), themselves.
v1's over-broad rules are gone: professionals do not create structures, anonymous visitors read nothing,
and nobody sees the "sensible" flag of a structure unless they manage it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from contracts.identity import Role


class Operation(StrEnum):
    create_deployment = "create_deployment"
    list_deployments = "list_deployments"
    view_deployment = "view_deployment"
    add_manager = "add_manager"
    create_orientation_system = "create_orientation_system"
    create_structure = "create_structure"
    edit_structure = "edit_structure"
    see_sensitive_flag = "see_sensitive_flag"
    create_professional = "create_professional"
    create_staff = "create_staff"  # structure admins and orientation managers
    edit_person = "edit_person"  # names, contact, structures, dispositifs
    deactivate_person = "deactivate_person"
    search_annuaire = "search_annuaire"


@dataclass(frozen=True)
class Caller:
    role: Role
    deployment_id: uuid.UUID | None
    structure_ids: frozenset[uuid.UUID] = frozenset()
    profile_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Scope:
    """What the operation touches: its territory and, where it matters, its structures and person."""

    deployment_id: uuid.UUID | None = None
    structure_ids: frozenset[uuid.UUID] = frozenset()
    person_id: uuid.UUID | None = None
    person_role: str | None = None


TERRITORY_STAFF = {Role.manager, Role.admin_structure, Role.orientation_manager, Role.professional}


def may(caller: Caller, operation: Operation, scope: Scope) -> bool:
    if caller.role == Role.admin_cdb:
        return True  # the national administrator runs every territory
    same_territory = caller.deployment_id is not None and scope.deployment_id == caller.deployment_id
    if not same_territory:
        return False
    if operation in (Operation.create_deployment, Operation.list_deployments, Operation.add_manager):
        return False
    myself = scope.person_id is not None and scope.person_id == caller.profile_id  # « Mon compte » is for that
    if caller.role == Role.manager:
        if operation == Operation.edit_person and scope.person_role == Role.manager:
            return False  # a fellow's details, login address included, are theirs and admin_cdb's (v1: U OWN)
        return operation not in (Operation.deactivate_person, Operation.edit_person) or not myself
    administers = bool(scope.structure_ids) and scope.structure_ids <= caller.structure_ids
    if caller.role == Role.admin_structure:
        if operation in (Operation.edit_structure, Operation.see_sensitive_flag, Operation.create_professional):
            return administers
        if operation == Operation.create_staff:  # a fellow admin of their structures (spec §1.2: C co-admins)
            return administers and scope.person_role == Role.admin_structure
        if operation == Operation.edit_person:  # their structures' professionals and fellow admins (U co-admins)
            return administers and scope.person_role in (Role.professional, Role.admin_structure) and not myself
        if operation == Operation.deactivate_person:  # their structures' professionals, not fellow admins
            return administers and scope.person_role == Role.professional and not myself
        return operation in (Operation.view_deployment, Operation.search_annuaire)
    if caller.role in (Role.orientation_manager, Role.professional):
        return operation in (Operation.view_deployment, Operation.search_annuaire)
    return False  # beneficiaries see their own notebook's people there, not the annuaire
