"""The header's menu: each role's main pages, and the page being read marked for the eye and screen readers."""
from __future__ import annotations

import pytest

from contracts.identity import Role
from gateway.web.menu import main_menu

pytestmark = pytest.mark.unit


def labels(role: Role, manages_accounts: bool = False, path: str = "/") -> list[str]:
    return [e.label for e in main_menu(role, manages_accounts, path)]


def current(role: Role, path: str) -> list[str]:
    return [e.label for e in main_menu(role, False, path) if e.current]


def test_each_role_finds_its_main_pages():
    assert labels(Role.manager, True) == ["Accueil", "Bénéficiaires", "Requêtes", "Territoire", "Structures",
                                          "Annuaire", "Imports", "Réorientations", "CER à valider", "Transferts",
                                          "Tableau de bord", "Exports", "Journal d'audit", "Comptes", "Mon compte"]
    assert labels(Role.admin_cdb, True) == ["Accueil", "Territoires", "Annuaire", "Tableau de bord", "Exports",
                                            "Journal d'audit", "Comptes", "Envois", "Webhooks", "Partenaires",
                                            "Mon compte"]
    assert labels(Role.beneficiary) == ["Accueil", "Mon carnet", "Mon compte"]
    assert labels(Role.orientation_manager) == ["Accueil", "Bénéficiaires", "Requêtes", "Annuaire", "Réorientations",
                                                      "CER à valider", "Tableau de bord", "Exports", "Mon compte"]
    assert labels(Role.professional) == ["Accueil", "Bénéficiaires", "Requêtes", "Annuaire", "Exports", "Mon compte"]


@pytest.mark.parametrize(("role", "path", "marked"), [
    (Role.manager, "/", ["Accueil"]),
    (Role.manager, "/territoire", ["Territoire"]),
    (Role.manager, "/territoire/personnes", ["Territoire"]),
    (Role.manager, "/territoire/structures/8f2ac9de-c13a-46e7-ae80-65d3dc4f2a91", ["Structures"]),
    (Role.manager, "/territoires", []),  # not /territoire's page because it starts with the same letters
    (Role.beneficiary, "/mon-carnet/contrats", ["Mon carnet"]),
    (Role.professional, "/carnets/8f2ac9de-c13a-46e7-ae80-65d3dc4f2a91", []),
    (Role.admin_structure, "/pilotage", ["Tableau de bord"]),
    (Role.orientation_manager, "/pilotage", ["Tableau de bord"]),
    (Role.professional, "/beneficiaires/requetes", ["Requêtes"]),  # not « Bénéficiaires »: the longest address
])
def test_the_page_being_read_is_marked_once_at_most(role, path, marked):
    assert current(role, path) == marked
