"""The header's main menu: each role's main pages, the one being read marked (aria-current)."""
from __future__ import annotations

from dataclasses import dataclass

from contracts.identity import Role

PROFESSIONALS = {Role.manager, Role.admin_structure, Role.orientation_manager, Role.professional}
# (address, label, who sees it) in the header's order; the address also marks every page below it as current.
ENTRIES = (
    ("/", "Accueil", set(Role)),
    ("/mon-carnet", "Mon carnet", {Role.beneficiary}),
    ("/beneficiaires", "Bénéficiaires", PROFESSIONALS),
    ("/beneficiaires/requetes", "Requêtes", PROFESSIONALS),
    ("/territoires", "Territoires", {Role.admin_cdb}),
    ("/territoire", "Territoire", {Role.manager}),
    ("/territoire/structures", "Structures", {Role.manager}),
    ("/annuaire", "Annuaire", PROFESSIONALS | {Role.admin_cdb}),
    ("/imports", "Imports", {Role.manager, Role.admin_structure}),
    ("/orientations/demandes", "Réorientations", {Role.manager, Role.orientation_manager}),
    ("/contrats/a-valider", "CER à valider", {Role.manager, Role.orientation_manager}),
    ("/transferts", "Transferts", {Role.manager}),
    ("/pilotage", "Tableau de bord", {Role.manager, Role.admin_structure, Role.orientation_manager, Role.admin_cdb}),
    ("/exports", "Exports", PROFESSIONALS | {Role.admin_cdb}),
    ("/journal", "Journal d'audit", {Role.manager, Role.admin_cdb}),
    ("/comptes", "Comptes", set()),  # those who manage accounts, whatever their role (Visitor.manages_accounts)
    ("/envois", "Envois", {Role.admin_cdb}),
    ("/webhooks", "Webhooks", {Role.admin_cdb}),
    ("/partenaires", "Partenaires", {Role.admin_cdb}),
    ("/compte", "Mon compte", set(Role)),
)


@dataclass(frozen=True)
class MenuEntry:
    href: str
    label: str
    current: bool


def main_menu(role: Role, manages_accounts: bool, path: str) -> list[MenuEntry]:
    shown = [(href, label) for href, label, roles in ENTRIES
             if role in roles or (href == "/comptes" and manages_accounts)]
    # The longest address that the page's path starts with is the current one (/territoire/structures/… →
    # « Structures », not « Territoire »).
    matching = [href for href, _ in shown if path == href or (href != "/" and path.startswith(href + "/"))]
    current = max(matching, key=len, default=None)
    return [MenuEntry(href, label, href == current) for href, label in shown]


# The home page's links to the pages of daily work beside the list of beneficiaries: each shown to the roles that
# may use the page (the menu's, which are the services' habilitations), with what it is for.
HOME_LINKS = {
    "/contrats/a-valider": "les CER envoyés par les référents, qui attendent une validation.",
    "/imports": "déposer un fichier (bénéficiaires, structures, professionnels…) et suivre son import.",
    "/pilotage": "les chiffres clés et leur évolution, avec la liste derrière chaque chiffre.",
    "/exports": "télécharger les listes de votre périmètre (bénéficiaires, rendez-vous, actions…).",
}


@dataclass(frozen=True)
class HomeLink:
    href: str
    label: str
    description: str


def home_links(role: Role) -> list[HomeLink]:
    return [HomeLink(href, label, HOME_LINKS[href]) for href, label, roles in ENTRIES
            if href in HOME_LINKS and role in roles]
