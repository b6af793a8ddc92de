"""Pure rules of the notebook: NIR, protection of identifiers, habilitation table, parcours and référent rules."""
from __future__ import annotations

import uuid

import pytest

from contracts.identity import Role
from contracts.notebook import ContractLink, MemberType, TargetStatus
from notebook.domain.habilitation import GRANTS, PUBLIC_CARD_HIDDEN, Operation, Relation, fields_refused, hidden_fields, may
from notebook.adapters.orm import Person
from notebook.domain.nir import clean_nir
from servicekit.identifiers import nir_key as key_of
from notebook.domain.parcours import (
    check_can_leave,
    check_consent,
    check_referent_system,
    check_target_change,
    check_version,
)
from notebook.domain.protection import FieldProtection
from servicekit.errors import Conflict, Invalid

pytestmark = pytest.mark.unit

R = Relation
O = Operation
ALL = frozenset


@pytest.mark.parametrize("typed, stored", [
    ("2800593190123", "2800593190123"),
    ("2 80 05 93 190 123 45", "2800593190123"),
    ("1 85 05 2A 123 456 " + f"{key_of('185052A123456'):02d}", "185052A123456"),
    ("", ""),
])
def test_a_nir_is_kept_in_13_characters_once_its_key_is_checked(typed, stored):
    assert clean_nir(typed) == stored


@pytest.mark.parametrize("typed", ["2800593190123 46", "280059319012", "9800593190123", "28005931901AB"])
def test_a_wrong_nir_is_refused_with_a_french_message(typed):
    with pytest.raises(Invalid, match="sécurité sociale"):
        clean_nir(typed)


def test_identifiers_are_encrypted_and_matched_by_a_keyed_hash():
    protection = FieldProtection(b"secret")
    token = protection.encrypt("2800593190123")
    assert "2800593190123" not in token and protection.decrypt(token) == "2800593190123"
    assert protection.index("nir", "2 800593190123") == protection.index("nir", "2800593190123")
    assert protection.index("nir", "1234567") != protection.index("caf", "1234567")
    assert FieldProtection(b"other").index("nir", "2800593190123") != protection.index("nir", "2800593190123")
    assert protection.index("caf", " ") is None


def test_the_blind_index_never_changes_for_a_given_secret():
    """Stored indexes are matched against new rows: HMAC-SHA256 of "kind:value" under a key derived from the secret,
    whatever way it is computed (a keyed copy per call since imports hash millions of them)."""
    protection = FieldProtection(b"test-secret")
    assert protection.index("nir", "1 85 03 75 056 123 45") == (
        "6d48b4e3ee8ce0174337ff9539af9a9b142165c9a0eaf3b011c948b89433f3b6")
    assert protection.index("nir", "185037505612345") == protection.index("nir", "185037505612345")


# role × relation × operation: what each role may do, from the spec's matrix without v1's over-broad rules.
TABLE = [
    (Role.professional, ALL({R.territory}), O.view_public, True),
    (Role.professional, ALL({R.territory}), O.view_full, False),
    (Role.professional, ALL({R.territory}), O.join, True),
    (Role.professional, ALL({R.territory}), O.edit_parcours, False),
    (Role.professional, ALL({R.territory, R.member}), O.view_full, True),
    (Role.professional, ALL({R.territory, R.member}), O.edit_parcours, True),
    (Role.professional, ALL({R.territory, R.member}), O.edit_identity, False),
    (Role.professional, ALL({R.territory, R.member}), O.view_access_log, False),
    (Role.professional, ALL({R.elsewhere}), O.view_public, False),
    (Role.orientation_manager, ALL({R.territory}), O.view_full, True),
    (Role.orientation_manager, ALL({R.territory}), O.edit_parcours, False),
    (Role.orientation_manager, ALL({R.territory, R.member}), O.edit_diagnostic, True),
    (Role.manager, ALL({R.territory}), O.edit_identity, True),
    (Role.manager, ALL({R.territory}), O.redact, True),
    (Role.manager, ALL({R.territory}), O.edit_parcours, False),
    (Role.manager, ALL({R.elsewhere}), O.view_public, False),
    (Role.admin_structure, ALL({R.territory}), O.view_full, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.view_full, True),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.manage_appointments, True),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.edit_rights, False),
    (Role.beneficiary, ALL({R.own}), O.view_full, True),
    (Role.beneficiary, ALL({R.own}), O.view_access_log, True),
    (Role.beneficiary, ALL({R.own}), O.edit_contact, True),
    (Role.beneficiary, ALL({R.own}), O.edit_rights, False),
    (Role.beneficiary, ALL(), O.view_public, False),
    (Role.admin_cdb, ALL({R.territory}), O.view_full, True),
    (Role.admin_cdb, ALL({R.territory}), O.edit_contact, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.assign, True),
    (Role.admin_structure, ALL({R.territory}), O.assign, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.assign_orientation_manager, False),
    (Role.manager, ALL({R.territory}), O.assign, True),
    (Role.orientation_manager, ALL({R.territory}), O.assign_orientation_manager, True),
    (Role.professional, ALL({R.territory, R.member}), O.assign, False),
    (Role.professional, ALL({R.territory, R.member}), O.request_reorientation, True),
    (Role.professional, ALL({R.territory}), O.request_reorientation, False),
    (Role.professional, ALL({R.territory, R.member}), O.orient, False),
    (Role.orientation_manager, ALL({R.territory}), O.orient, True),
    (Role.manager, ALL({R.territory}), O.orient, True),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.orient, False),
    (Role.manager, ALL({R.territory}), O.remove_member, True),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.remove_member, True),
    (Role.admin_structure, ALL({R.territory}), O.remove_member, False),
    (Role.professional, ALL({R.territory, R.member}), O.remove_member, False),
    (Role.orientation_manager, ALL({R.territory}), O.remove_member, False),
    # Contracts (CER): members prepare and edit, the beneficiary edits and signs, the territory validates.
    (Role.professional, ALL({R.territory, R.member}), O.view_contracts, True),
    (Role.professional, ALL({R.territory, R.member}), O.prepare_contract, True),
    (Role.professional, ALL({R.territory, R.member}), O.edit_contract, True),
    (Role.professional, ALL({R.territory, R.member}), O.validate_contract, False),
    (Role.professional, ALL({R.territory, R.member}), O.sign_contract, False),
    (Role.professional, ALL({R.territory}), O.view_contracts, False),
    (Role.professional, ALL({R.territory}), O.prepare_contract, False),
    (Role.manager, ALL({R.territory}), O.view_contracts, True),
    (Role.manager, ALL({R.territory}), O.validate_contract, True),
    (Role.manager, ALL({R.territory}), O.edit_contract, False),
    (Role.manager, ALL({R.elsewhere}), O.validate_contract, False),
    (Role.orientation_manager, ALL({R.territory}), O.validate_contract, True),
    (Role.orientation_manager, ALL({R.territory}), O.prepare_contract, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.view_contracts, False),
    (Role.admin_cdb, ALL({R.territory}), O.validate_contract, False),
    (Role.beneficiary, ALL({R.own}), O.view_contracts, True),
    (Role.beneficiary, ALL({R.own}), O.edit_contract, True),
    (Role.beneficiary, ALL({R.own}), O.sign_contract, True),
    (Role.beneficiary, ALL({R.own}), O.prepare_contract, False),
    (Role.beneficiary, ALL({R.own}), O.validate_contract, False),
    (Role.beneficiary, ALL(), O.sign_contract, False),
]


@pytest.mark.parametrize("role, relations, operation, allowed", TABLE)
def test_habilitation_table(role, relations, operation, allowed):
    assert may(role, relations, operation) is allowed


def test_what_is_not_granted_is_denied():
    assert not may(Role.professional, ALL({R.own, R.structure}), O.view_public)
    assert not may(Role.admin_structure, ALL({R.member}), O.view_full)  # structure admins are never members
    assert all(role in GRANTS for role in (Role.manager, Role.professional, Role.beneficiary))


def test_an_edit_is_checked_field_by_field():
    member = ALL({R.territory, R.member})
    assert fields_refused(Role.professional, member, {"mobile_number", "right_rsa", "caf_number"}) == []
    assert fields_refused(Role.professional, member, {"mobile_number", "lastname", "nir"}) == ["lastname", "nir"]
    assert fields_refused(Role.admin_structure, ALL({R.territory, R.structure}), {"pe_number"}) == ["pe_number"]
    assert fields_refused(Role.beneficiary, ALL({R.own}), {"email", "city"}) == []


def test_an_objective_linked_to_a_contract_needs_the_beneficiarys_consent():
    check_consent(ContractLink.no, False)
    check_consent(ContractLink.cer, True)
    with pytest.raises(Invalid, match="consentement"):
        check_consent(ContractLink.cer, False)


def test_abandoning_an_objective_needs_a_reason():
    check_target_change(TargetStatus.done, "")
    with pytest.raises(Invalid, match="pourquoi"):
        check_target_change(TargetStatus.abandoned, " ")


def test_a_stale_version_is_a_conflict_carrying_the_current_state():
    check_version(3, 3, {})
    with pytest.raises(Conflict) as error:
        check_version(4, 3, {"status": "done"})
    assert error.value.details == {"version": 4, "current": {"status": "done"}}


def test_the_referent_cannot_leave_and_must_hold_the_orientation_system():
    check_can_leave(MemberType.no_referent)
    with pytest.raises(Conflict, match="référent"):
        check_can_leave(MemberType.referent)
    held = uuid.uuid4()
    person = Person(orientation_system_ids=[str(held)], structure_ids=[])
    check_referent_system(held, person)
    for chosen in (None, uuid.uuid4()):
        with pytest.raises(Invalid, match="dispositif"):
            check_referent_system(chosen, person)


def test_identifiers_are_hidden_from_who_may_not_see_them():
    assert hidden_fields(Role.professional, ALL({R.territory})) == PUBLIC_CARD_HIDDEN
    assert hidden_fields(Role.professional, ALL({R.territory, R.member})) == {"nir"}
    assert hidden_fields(Role.admin_structure, ALL({R.territory, R.structure})) == {"nir"}
    assert hidden_fields(Role.manager, ALL({R.territory})) == frozenset()
    assert hidden_fields(Role.beneficiary, ALL({R.own})) == frozenset()
