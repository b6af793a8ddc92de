"""Who may import which kind, into which structure, and which imports they see (default deny).

Managers import their territory's beneficiaries, structures, orientation managers and réorientations, and the
professionals of one of its structures; a structure admin imports their structure's professionals and
rattachements. An import is seen by its territory's managers, by the admins of the structure it was for, and by
its uploader; to anyone else it does not exist (the same answer as an unknown id).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from contracts.identity import Role
from contracts.imports import ImportKind

IMPORTERS: dict[ImportKind, frozenset[Role]] = {
    ImportKind.beneficiaries: frozenset({Role.manager}),
    ImportKind.structures: frozenset({Role.manager}),
    ImportKind.orientation_managers: frozenset({Role.manager}),
    ImportKind.reorientations: frozenset({Role.manager}),
    ImportKind.professionals: frozenset({Role.manager, Role.admin_structure}),
    ImportKind.referents: frozenset({Role.admin_structure}),
    ImportKind.caf_msa: frozenset({Role.manager}),
    ImportKind.france_travail_principal: frozenset({Role.manager}),
    ImportKind.france_travail_actions: frozenset({Role.manager}),
}
# Kinds imported into one structure: the uploader says which (a structure admin of one structure need not).
FOR_A_STRUCTURE = frozenset({ImportKind.professionals, ImportKind.referents})

KIND_LABELS: dict[ImportKind, str] = {
    ImportKind.beneficiaries: "bénéficiaires",
    ImportKind.structures: "structures",
    ImportKind.professionals: "professionnels",
    ImportKind.orientation_managers: "chargés d'orientation",
    ImportKind.referents: "rattachements",
    ImportKind.reorientations: "réorientations",
    ImportKind.caf_msa: "flux CAF/MSA",
    ImportKind.france_travail_principal: "flux France Travail (principal)",
    ImportKind.france_travail_actions: "flux France Travail (actions)",
}


@dataclass(frozen=True)
class Uploader:
    account_id: uuid.UUID
    role: Role
    deployment_id: uuid.UUID | None
    structure_ids: frozenset[uuid.UUID]


class Refused(Exception):
    """Why an import cannot be opened, in French; ``forbidden`` when the role may not, else a missing choice."""

    def __init__(self, message: str, *, forbidden: bool) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def may_import(role: Role, kind: ImportKind) -> bool:
    return role in IMPORTERS.get(kind, frozenset())


def import_structure(uploader: Uploader, kind: ImportKind, structure_id: uuid.UUID | None) -> uuid.UUID | None:
    """The structure an import of ``kind`` is for (None for the territory's kinds), or ``Refused``."""
    if not may_import(uploader.role, kind) or uploader.deployment_id is None:
        raise Refused(f"Vous n'avez pas le droit d'importer des {KIND_LABELS[kind]}.", forbidden=True)
    if kind not in FOR_A_STRUCTURE:
        return None
    if uploader.role == Role.admin_structure:
        if structure_id is None and len(uploader.structure_ids) == 1:
            return next(iter(uploader.structure_ids))
        if structure_id is None:
            raise Refused("Choisissez la structure pour laquelle vous importez ce fichier.", forbidden=False)
        if structure_id not in uploader.structure_ids:
            raise Refused("Vous ne pouvez importer que pour les structures que vous administrez.", forbidden=True)
        return structure_id
    if structure_id is None:  # a manager, for one structure of their territory (the owner checks it is theirs)
        raise Refused("Choisissez la structure pour laquelle vous importez ce fichier.", forbidden=False)
    return structure_id


def may_see(viewer: Uploader, *, account_id: uuid.UUID, deployment_id: uuid.UUID | None,
            structure_id: uuid.UUID | None) -> bool:
    """Whether ``viewer`` may see an import opened by ``account_id`` for this territory and structure."""
    if viewer.account_id == account_id:
        return True
    if viewer.deployment_id is None or viewer.deployment_id != deployment_id:
        return False
    if viewer.role == Role.manager:
        return True
    if viewer.role == Role.admin_structure:
        return structure_id is not None and structure_id in viewer.structure_ids
    return False
