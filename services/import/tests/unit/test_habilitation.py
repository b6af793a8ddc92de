"""Who may import which kind, into which structure, and who sees an import: the whole table."""
from __future__ import annotations

import uuid

import pytest

from contracts.identity import Role
from contracts.imports import ImportKind
from data_import.domain.habilitation import Refused, Uploader, import_structure, may_import, may_see

pytestmark = pytest.mark.unit
K = ImportKind
TERRITORY, ELSEWHERE = uuid.uuid4(), uuid.uuid4()
MINE, OTHER, THIRD = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

ALLOWED = {
    Role.manager: {K.beneficiaries, K.structures, K.orientation_managers, K.reorientations, K.professionals,
                   K.caf_msa, K.france_travail_principal, K.france_travail_actions},
    Role.admin_structure: {K.professionals, K.referents},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", list(ImportKind))
def test_who_may_import_what(role, kind):
    assert may_import(role, kind) == (kind in ALLOWED.get(role, set()))
    uploader = Uploader(uuid.uuid4(), role, TERRITORY, frozenset({MINE}))
    if kind not in ALLOWED.get(role, set()):
        with pytest.raises(Refused) as refused:
            import_structure(uploader, kind, MINE)
        assert refused.value.forbidden and "pas le droit" in refused.value.message


def admin(*structures: uuid.UUID) -> Uploader:
    return Uploader(uuid.uuid4(), Role.admin_structure, TERRITORY, frozenset(structures))


def test_the_structure_an_import_is_for():
    manager = Uploader(uuid.uuid4(), Role.manager, TERRITORY, frozenset())
    assert import_structure(manager, K.beneficiaries, MINE) is None  # the territory's kinds ignore it
    assert import_structure(manager, K.professionals, OTHER) == OTHER
    assert import_structure(admin(MINE), K.referents, None) == MINE  # their only structure
    assert import_structure(admin(MINE, OTHER), K.professionals, OTHER) == OTHER
    for uploader, structure, forbidden in ((manager, None, False), (admin(MINE, OTHER), None, False),
                                           (admin(MINE), OTHER, True)):
        with pytest.raises(Refused) as refused:
            import_structure(uploader, K.professionals, structure)
        assert refused.value.forbidden == forbidden
    without_territory = Uploader(uuid.uuid4(), Role.manager, None, frozenset())
    with pytest.raises(Refused):
        import_structure(without_territory, K.beneficiaries, None)


@pytest.mark.parametrize(("viewer", "deployment", "structure", "sees"), [
    (Uploader(uuid.uuid4(), Role.manager, TERRITORY, frozenset()), TERRITORY, None, True),
    (Uploader(uuid.uuid4(), Role.manager, TERRITORY, frozenset()), TERRITORY, MINE, True),
    (Uploader(uuid.uuid4(), Role.manager, ELSEWHERE, frozenset()), TERRITORY, None, False),
    (admin(MINE), TERRITORY, MINE, True),
    (admin(MINE), TERRITORY, OTHER, False),
    (admin(MINE), TERRITORY, None, False),
    (admin(MINE), ELSEWHERE, MINE, False),
    (Uploader(uuid.uuid4(), Role.professional, TERRITORY, frozenset({MINE})), TERRITORY, MINE, False),
    (Uploader(uuid.uuid4(), Role.orientation_manager, TERRITORY, frozenset()), TERRITORY, None, False),
    (Uploader(uuid.uuid4(), Role.admin_cdb, None, frozenset()), TERRITORY, None, False),
])
def test_who_sees_an_import(viewer, deployment, structure, sees):
    assert may_see(viewer, account_id=uuid.uuid4(), deployment_id=deployment, structure_id=structure) == sees


def test_the_uploader_always_sees_their_import():
    uploader = admin(MINE)
    assert may_see(uploader, account_id=uploader.account_id, deployment_id=ELSEWHERE, structure_id=THIRD)
