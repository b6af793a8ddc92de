"""Who may do what on a notebook: default deny, scopes of spec §1.2 without v1's over-broad rules.

A caller stands in one or more *relations* to a notebook (a member also belongs to the territory); an
operation is allowed when one of those relations grants it to the caller's role.
"""
from __future__ import annotations

from enum import StrEnum

from contracts.identity import Role


class Relation(StrEnum):
    own = "own"              # the beneficiary's own notebook
    member = "member"        # an active member of the group
    structure = "structure"  # a structure admin of a structure following the beneficiary
    territory = "territory"  # the notebook's territory
    elsewhere = "elsewhere"  # another territory
    referred = "referred"    # a professional of another territory invited into the group until a date
    destination = "destination"  # another territory's notebook with a transfer to the caller's pending


class Operation(StrEnum):
    view_public = "view_public"        # identity, contact and group: the card every professional may open
    view_full = "view_full"            # the whole notebook
    view_access_log = "view_access_log"
    edit_contact = "edit_contact"
    edit_rights = "edit_rights"        # rights and CAF/MSA, France Travail numbers
    edit_identity = "edit_identity"    # names, birth, NIR, SI id, "droits et devoirs", CAF/MSA reasons
    edit_diagnostic = "edit_diagnostic"
    edit_parcours = "edit_parcours"
    manage_appointments = "manage_appointments"
    join = "join"
    invite = "invite"
    leave = "leave"
    redact = "redact"
    create = "create"
    assign = "assign"                                      # choose the référent ("Rattacher")
    assign_orientation_manager = "assign_orientation_manager"
    request_reorientation = "request_reorientation"        # the active référent only (checked by the handler)
    orient = "orient"                                      # orient, reorient, decide on a reorientation request
    remove_member = "remove_member"
    # Contracts (CER): read them; prepare one (draft, submit, "signé en présence", end, renew, record a PPAE, CEJ,
    # PACEA); edit a draft (the référent's side and the beneficiary's); validate or return; sign online.
    view_contracts = "view_contracts"
    prepare_contract = "prepare_contract"
    edit_contract = "edit_contract"
    validate_contract = "validate_contract"
    sign_contract = "sign_contract"
    # Bilans d'accompagnement: read them (and their PDF); write one (the notebook's members).
    view_bilans = "view_bilans"
    write_bilan = "write_bilan"
    # Exchanges between professionals: the members' thread (read, write, mention); the beneficiary reads the
    # messages shared with her and answers them.
    view_exchanges = "view_exchanges"
    post_exchange = "post_exchange"
    view_shared_exchanges = "view_shared_exchanges"
    reply_shared_exchange = "reply_shared_exchange"
    # Another territory: ask a transfer (origin's managers), accept or refuse it (destination's managers), invite a
    # professional of another territory for a time.
    request_transfer = "request_transfer"
    decide_transfer = "decide_transfer"
    refer = "refer"


_MEMBER_WORK = frozenset({Operation.view_public, Operation.view_full, Operation.edit_contact, Operation.edit_rights,
                          Operation.edit_diagnostic, Operation.edit_parcours, Operation.manage_appointments,
                          Operation.invite, Operation.leave, Operation.request_reorientation,
                          Operation.view_contracts, Operation.prepare_contract, Operation.edit_contract,
                          Operation.view_bilans, Operation.write_bilan,
                          Operation.view_exchanges, Operation.post_exchange})
# Invited from another territory for a time: the group's work, but not who is in it nor the orientation.
_REFERRED_WORK = _MEMBER_WORK - {Operation.invite, Operation.leave, Operation.request_reorientation}

GRANTS: dict[Role, dict[Relation, frozenset[Operation]]] = {
    Role.admin_cdb: {
        Relation.territory: frozenset({Operation.view_public, Operation.view_full, Operation.view_access_log}),
    },
    Role.manager: {
        Relation.territory: frozenset({
            Operation.view_public, Operation.view_full, Operation.view_access_log, Operation.edit_contact,
            Operation.edit_rights, Operation.edit_identity, Operation.edit_diagnostic, Operation.redact,
            Operation.create, Operation.assign, Operation.assign_orientation_manager, Operation.orient,
            Operation.remove_member, Operation.view_contracts, Operation.validate_contract, Operation.view_bilans,
            Operation.request_transfer, Operation.refer}),
        Relation.destination: frozenset({Operation.decide_transfer}),
    },
    Role.orientation_manager: {
        Relation.territory: frozenset({Operation.view_public, Operation.view_full, Operation.join, Operation.assign,
                                       Operation.assign_orientation_manager, Operation.orient,
                                       Operation.view_contracts, Operation.validate_contract,
                                       Operation.view_bilans}),
        Relation.member: _MEMBER_WORK,
        Relation.referred: _REFERRED_WORK,
    },
    Role.professional: {
        Relation.territory: frozenset({Operation.view_public, Operation.join}),
        Relation.member: _MEMBER_WORK,
        Relation.referred: _REFERRED_WORK,
    },
    Role.admin_structure: {
        Relation.territory: frozenset({Operation.view_public}),
        Relation.structure: frozenset({Operation.view_public, Operation.view_full, Operation.edit_contact,
                                       Operation.manage_appointments, Operation.assign,
                                       Operation.remove_member}),
    },
    Role.beneficiary: {
        Relation.own: frozenset({Operation.view_public, Operation.view_full, Operation.view_access_log,
                                 Operation.edit_contact, Operation.view_contracts, Operation.edit_contract,
                                 Operation.sign_contract, Operation.view_bilans,
                                 Operation.view_shared_exchanges, Operation.reply_shared_exchange}),
    },
}


def may(role: Role, relations: frozenset[Relation], operation: Operation) -> bool:
    grants = GRANTS.get(role, {})
    return any(operation in grants.get(relation, ()) for relation in relations)


def allowed_operations(role: Role, relations: frozenset[Relation]) -> list[str]:
    return sorted(op.value for op in Operation if may(role, relations, op))


# Which operation each field of the beneficiary needs, so that an edit is checked field by field.
FIELD_OPERATION: dict[str, Operation] = {
    **dict.fromkeys(("email", "mobile_number", "address1", "address2", "postal_code", "city",
                     "notification_channels"), Operation.edit_contact),
    **dict.fromkeys(("right_rsa", "right_are", "right_ass", "right_bonus", "caf_number", "pe_number"),
                    Operation.edit_rights),
    **dict.fromkeys(("firstname", "lastname", "date_of_birth", "place_of_birth", "nir", "external_id",
                     "rsa_suspension_reason", "rsa_closure_reason", "rsa_closure_date",
                     "subject_to_right_and_duty"), Operation.edit_identity),
}


def fields_refused(role: Role, relations: frozenset[Relation], changed: set[str]) -> list[str]:
    """The changed fields this caller may not change (empty: the edit is allowed)."""
    return sorted(f for f in changed if not may(role, relations, FIELD_OPERATION[f]))


# The public card is identity, contact and group (spec §3.3): identifiers and rights are left out.
# The NIR is shown to managers and to the person only.
PUBLIC_CARD_HIDDEN = frozenset({"nir", "caf_number", "pe_number", "external_id", "right_rsa", "right_are", "right_ass",
                                "right_bonus", "rsa_suspension_reason", "rsa_closure_reason", "rsa_closure_date",
                                "subject_to_right_and_duty"})


def hidden_fields(role: Role, relations: frozenset[Relation]) -> frozenset[str]:
    """The beneficiary's fields this caller does not see (nor, therefore, send back changed)."""
    if not may(role, relations, Operation.view_full):
        return PUBLIC_CARD_HIDDEN
    if not may(role, relations, Operation.edit_identity) and Relation.own not in relations:
        return frozenset({"nir"})
    return frozenset()
