"""SIRET and contact validation, and who may do what in the directory (role × operation × scope)."""
import uuid

import pytest

from contracts.identity import Role
from directory.domain.habilitation import Caller, Operation, Scope, may
from directory.domain.validation import clean_department_code, clean_email, clean_phone, clean_siret, siret_is_valid
from servicekit.contact import search_key
from servicekit.errors import Invalid

pytestmark = pytest.mark.unit

D93, D51 = uuid.uuid4(), uuid.uuid4()
S1, S2 = uuid.uuid4(), uuid.uuid4()
ME = uuid.uuid4()
CALLERS = {
    "admin_cdb": Caller(Role.admin_cdb, None),
    "manager": Caller(Role.manager, D93, profile_id=ME),
    "admin_structure": Caller(Role.admin_structure, D93, frozenset({S1}), ME),
    "orientation_manager": Caller(Role.orientation_manager, D93),
    "professional": Caller(Role.professional, D93, frozenset({S1})),
    "beneficiary": Caller(Role.beneficiary, D93),
}
IN_SCOPE = Scope(D93, frozenset({S1}), uuid.uuid4(), Role.professional)
OTHER_STRUCTURE = Scope(D93, frozenset({S2}), uuid.uuid4(), Role.professional)
OTHER_TERRITORY = Scope(D51, frozenset({S1}), uuid.uuid4(), Role.professional)
SELF = Scope(D93, frozenset({S1}), ME, Role.admin_structure)
FELLOW_ADMIN = Scope(D93, frozenset({S1}), uuid.uuid4(), Role.admin_structure)

# operation: the callers allowed in scope; out of their territory only admin_cdb is ever allowed.
ALLOWED = {
    Operation.create_deployment: {"admin_cdb"},
    Operation.list_deployments: {"admin_cdb"},
    Operation.add_manager: {"admin_cdb"},
    Operation.view_deployment: {"admin_cdb", "manager", "admin_structure", "orientation_manager", "professional"},
    Operation.search_annuaire: {"admin_cdb", "manager", "admin_structure", "orientation_manager", "professional"},
    Operation.create_orientation_system: {"admin_cdb", "manager"},
    Operation.create_structure: {"admin_cdb", "manager"},
    Operation.edit_structure: {"admin_cdb", "manager", "admin_structure"},
    Operation.see_sensitive_flag: {"admin_cdb", "manager", "admin_structure"},
    Operation.create_professional: {"admin_cdb", "manager", "admin_structure"},
    Operation.create_staff: {"admin_cdb", "manager"},
    Operation.deactivate_person: {"admin_cdb", "manager", "admin_structure"},
    Operation.edit_person: {"admin_cdb", "manager", "admin_structure"},
}


@pytest.mark.parametrize("operation", list(Operation))
@pytest.mark.parametrize("who", list(CALLERS))
def test_habilitation_in_scope_and_out_of_scope(who, operation):
    caller = CALLERS[who]
    assert may(caller, operation, IN_SCOPE) is (who in ALLOWED[operation])
    assert may(caller, operation, OTHER_TERRITORY) is (who == "admin_cdb")


@pytest.mark.parametrize("operation", [Operation.edit_structure, Operation.see_sensitive_flag,
                                       Operation.create_professional, Operation.deactivate_person,
                                       Operation.edit_person])
def test_structure_admins_act_only_on_the_structures_they_administer(operation):
    assert may(CALLERS["admin_structure"], operation, IN_SCOPE)
    assert not may(CALLERS["admin_structure"], operation, OTHER_STRUCTURE)
    assert may(CALLERS["manager"], operation, OTHER_STRUCTURE)


def test_structure_admins_manage_professionals_not_fellow_admins():
    assert not may(CALLERS["admin_structure"], Operation.deactivate_person, FELLOW_ADMIN)
    assert may(CALLERS["manager"], Operation.deactivate_person, FELLOW_ADMIN)


def test_structure_admins_add_and_edit_fellow_admins_of_their_structures_only():
    """Spec §1.2: admin_structure « R/C/U co-admins of its structures » (§5.6 add_admin.feature)."""
    admin = CALLERS["admin_structure"]
    assert may(admin, Operation.create_staff, FELLOW_ADMIN)
    assert may(admin, Operation.edit_person, FELLOW_ADMIN)
    elsewhere = Scope(D93, frozenset({S2}), uuid.uuid4(), Role.admin_structure)
    assert not may(admin, Operation.create_staff, elsewhere)
    assert not may(admin, Operation.edit_person, elsewhere)
    assert not may(admin, Operation.create_staff, Scope(D93, frozenset({S1, S2}), None, Role.admin_structure))
    assert not may(admin, Operation.create_staff, Scope(D93, frozenset(), None, Role.orientation_manager))
    assert not may(admin, Operation.create_staff, Scope(D93, frozenset({S1}), None, Role.orientation_manager))
    assert not may(admin, Operation.edit_person, Scope(D93, frozenset(), uuid.uuid4(), Role.orientation_manager))


def test_nobody_deactivates_or_edits_themselves_here():  # their own page is « Mon compte »
    for operation in (Operation.deactivate_person, Operation.edit_person):
        assert not may(CALLERS["manager"], operation, Scope(D93, person_id=ME))
        assert not may(CALLERS["admin_structure"], operation, SELF)


def test_a_manager_does_not_edit_a_fellow_manager():
    """Their details, their login address among them, are theirs (« Mon compte ») and the national
    administrator's: a manager changing a fellow's address could sign in as them (v1: managers « U OWN »)."""
    fellow = Scope(D93, frozenset(), uuid.uuid4(), Role.manager)
    assert not may(CALLERS["manager"], Operation.edit_person, fellow)
    assert may(CALLERS["admin_cdb"], Operation.edit_person, fellow)
    assert may(CALLERS["manager"], Operation.edit_person, Scope(D93, frozenset(), uuid.uuid4(), Role.orientation_manager))


def test_nobody_deactivates_themselves():
    assert not may(CALLERS["manager"], Operation.deactivate_person, Scope(D93, person_id=ME))
    assert not may(CALLERS["admin_structure"], Operation.deactivate_person, SELF)


@pytest.mark.parametrize(("siret", "valid"), [
    ("73282932000074", True),   # a real one (Luhn)
    ("35600000000048", True),   # La Poste's head office (Luhn)
    ("35600000000010", True),   # a La Poste establishment: digits sum to a multiple of 5
    ("73282932000075", False), ("7328293200007", False), ("7328293200007A", False),
])
def test_siret_key(siret, valid):
    assert siret_is_valid(siret) is valid


def test_bad_input_is_refused_in_french():
    with pytest.raises(Invalid, match="clé de contrôle"):
        clean_siret("732 829 320 00075")
    assert clean_siret("732 829 320 00074") == "73282932000074"
    with pytest.raises(Invalid, match="n'est pas valide"):
        clean_email("pierre.chevalier@")
    with pytest.raises(Invalid, match="numéro de téléphone"):
        clean_phone("12 34")
    with pytest.raises(Invalid, match="département"):
        clean_department_code("9")
    assert clean_department_code("2a") == "2A" and clean_department_code("974") == "974"


def test_search_ignores_accents_and_case():
    assert search_key("  Élodie DUPRÉ-Noël ") == "elodie dupre-noel"
