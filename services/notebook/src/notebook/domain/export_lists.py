"""What an export holds, list by list: its French columns (typed, so that a spreadsheet sorts dates as dates) and
how one row of the list becomes one line. Pure: the rows are read by ``handlers.exports``, written by
``adapters.export_files``.

No export holds a NIR, a CAF/MSA or France Travail number, nor any internal id: what one needs to act on a line is
the person's name and birth date, and the notebook in Carnet de bord."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from contracts.identity import Role
from contracts.pilotage import BeneficiaryFact, BeneficiaryFilters, CerState, ExportFormat, ExportList, Origin

UNKNOWN_LIST = "Cette liste ne peut pas être exportée."
NOT_ALLOWED = "Cet export n'est pas accessible avec votre profil."
FILTERS_ONLY_FOR_BENEFICIARIES = "Les filtres ne s'appliquent qu'à la liste des bénéficiaires."
EXPORT_DAYS = 7  # the uploads bucket keeps files a week: the download link says as much

PARIS = ZoneInfo("Europe/Paris")  # export files are named at the time the page shows


class Kind(StrEnum):
    text = "text"
    date = "date"
    datetime = "datetime"
    number = "number"
    boolean = "boolean"  # « oui » / « non »


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.text
    width: int = 18  # in characters, for the XLSX sheet


@dataclass(frozen=True)
class Sheet:
    list_name: ExportList
    title: str  # the sheet's and the file's name
    columns: tuple[Column, ...]


LIST_TITLES = {
    ExportList.beneficiaries: "Bénéficiaires", ExportList.professionals: "Professionnels",
    ExportList.structures: "Structures", ExportList.orientation_requests: "Demandes de réorientation",
    ExportList.appointments: "Rendez-vous", ExportList.actions: "Actions", ExportList.imports: "Imports",
}
FORMAT_LABELS = {ExportFormat.csv: "CSV", ExportFormat.xlsx: "Excel"}

# Who may export which list: the lists each role sees in the pages. A professional exports only her notebooks
# (``handlers.exports`` narrows the rows), a structure admin her structures'.
TERRITORY_ROLES = frozenset({Role.manager, Role.orientation_manager, Role.admin_structure, Role.professional,
                             Role.admin_cdb})
ALLOWED: dict[ExportList, frozenset[Role]] = {
    ExportList.beneficiaries: TERRITORY_ROLES,
    ExportList.professionals: frozenset({Role.manager, Role.admin_structure, Role.admin_cdb}),
    ExportList.structures: frozenset({Role.manager, Role.admin_cdb}),
    ExportList.orientation_requests: frozenset({Role.manager, Role.orientation_manager, Role.admin_cdb}),
    ExportList.appointments: TERRITORY_ROLES,
    ExportList.actions: TERRITORY_ROLES,
    ExportList.imports: frozenset({Role.manager, Role.admin_structure, Role.admin_cdb}),
}
MANAGERS = frozenset({Role.manager, Role.admin_cdb})  # see every export of their territory


def may_export(role: Role, list_name: ExportList) -> bool:
    return role in ALLOWED.get(list_name, frozenset())


SUPPORT = {"accompanied": "Accompagné", "waiting": "En attente d'un référent", "not_accompanied": "Non accompagné",
           "reorientation": "Avec une demande de réorientation", "all": ""}
RIGHT_RSA = {
    "rsa_droit_ouvert_versable": "Droit ouvert et versable", "rsa_droit_ouvert_et_suspendu": "Droit ouvert et suspendu",
    "rsa_droit_ouvert_versement_suspendu": "Droit ouvert mais versement suspendu",
    "rsa_demande_en_attente": "Demande en attente", "rsa_refuse": "Droit refusé", "rsa_clos": "Droit clos",
    "rsa_clos_anterieur": "Droit clos sur mois antérieur",
}
CER_STATE = {CerState.none: "Aucun CER", CerState.draft: "En préparation",
             CerState.submitted: "En attente de validation",
             CerState.validated: "Validé, à signer", CerState.signed: "Signé", CerState.ended: "Terminé"}
ORIGIN = {Origin.manual: "Saisie", Origin.file_import: "Import de fichier", Origin.cafmsa: "Flux CAF/MSA",
          Origin.france_travail: "France Travail", Origin.partner: "Logiciel partenaire"}
ACTION_STATUS = {"planned": "En projet", "in_progress": "En cours", "standby": "En attente", "done": "Réalisée",
                 "abandoned": "Abandonnée par le bénéficiaire", "canceled": "Annulée par la structure"}
APPOINTMENT_STATUS = {"planned": "Prévu", "present": "Présent", "absent": "Absent", "excused": "Excusé",
                      "cancelled": "Annulé"}
REQUEST_STATUS = {"pending": "En attente", "accepted": "Acceptée", "denied": "Refusée"}
ROLE = {"admin_cdb": "Administrateur Carnet de bord", "manager": "Gestionnaire du territoire",
        "admin_structure": "Administrateur de structure", "orientation_manager": "Chargé d'orientation",
        "professional": "Professionnel"}
IMPORT_STATE = {"receiving": "En réception", "parsing": "En lecture", "review": "À vérifier", "applying": "En cours",
                "done": "Terminé", "failed": "Échoué", "cancelled": "Annulé"}


def sheet_of(list_name: ExportList) -> Sheet:
    return SHEETS[list_name]


def _c(header: str, kind: Kind = Kind.text, width: int = 18) -> Column:
    return Column(header, kind, width)


SHEETS: dict[ExportList, Sheet] = {s.list_name: s for s in (
    Sheet(ExportList.beneficiaries, "Bénéficiaires", (
        _c("Nom", width=20), _c("Prénom", width=18), _c("Date de naissance", Kind.date, 12),
        _c("Structure", width=28), _c("Référent", width=24), _c("Chargé d'orientation", width=24),
        _c("Dispositif", width=22), _c("Statut d'accompagnement", width=24), _c("Droit RSA", width=26),
        _c("Soumis aux droits et devoirs", Kind.boolean, 12), _c("État du CER", width=20),
        _c("Fin du CER", Kind.date, 12), _c("Dernière activité", Kind.datetime, 16),
        _c("Créé le", Kind.datetime, 16), _c("Origine", width=18), _c("Thèmes", width=40))),
    Sheet(ExportList.professionals, "Professionnels", (
        _c("Nom", width=20), _c("Prénom", width=18), _c("Rôle", width=24), _c("Structures", width=34),
        _c("Courriel", width=30), _c("Téléphone", width=16), _c("Référent de (carnets)", Kind.number, 12),
        _c("Actif", Kind.boolean, 8))),
    Sheet(ExportList.structures, "Structures", (
        _c("Nom", width=34), _c("Ville", width=20), _c("Code postal", width=10), _c("Téléphone", width=16),
        _c("Courriel", width=30), _c("Bénéficiaires suivis", Kind.number, 12),
        _c("Professionnels", Kind.number, 12))),
    Sheet(ExportList.orientation_requests, "Demandes de réorientation", (
        _c("Nom", width=20), _c("Prénom", width=18), _c("Date de naissance", Kind.date, 12),
        _c("Demandée le", Kind.datetime, 16), _c("Demandée par", width=24), _c("Dispositif demandé", width=22),
        _c("Motif", width=40), _c("Statut", width=12), _c("Décidée le", Kind.datetime, 16),
        _c("Décidée par", width=24), _c("Dispositif retenu", width=22), _c("Motif de la décision", width=40))),
    Sheet(ExportList.appointments, "Rendez-vous", (
        _c("Nom", width=20), _c("Prénom", width=18), _c("Date de naissance", Kind.date, 12),
        _c("Rendez-vous le", Kind.datetime, 16), _c("Avec", width=24), _c("Statut", width=12),
        _c("Fixé le", Kind.datetime, 16))),
    Sheet(ExportList.actions, "Actions", (
        _c("Nom", width=20), _c("Prénom", width=18), _c("Date de naissance", Kind.date, 12),
        _c("Thème", width=22), _c("Objectif", width=34), _c("Action", width=34), _c("Statut", width=18),
        _c("Début", Kind.date, 12), _c("Créée le", Kind.datetime, 16), _c("Créée par", width=24))),
    Sheet(ExportList.imports, "Imports", (
        _c("Fichier", width=30), _c("Type", width=24), _c("État", width=14), _c("Lignes", Kind.number, 10),
        _c("Créées", Kind.number, 10), _c("Mises à jour", Kind.number, 10), _c("Rejetées", Kind.number, 10),
        _c("Déposé le", Kind.datetime, 16), _c("Déposé par", width=24))),
)}


# --- Lines ------------------------------------------------------------------------------------------------------

def beneficiary_line(fact: BeneficiaryFact, theme_labels: dict[str, str]) -> tuple[Any, ...]:
    return (fact.lastname, fact.firstname, fact.date_of_birth, fact.structure_name, fact.referent_name,
            fact.orientation_manager_name, fact.orientation_system_name, SUPPORT.get(str(fact.support), str(fact.support)),
            RIGHT_RSA.get(str(fact.rsa_right), "") if fact.rsa_right else "", fact.subject_to_right_and_duty,
            CER_STATE.get(CerState(fact.cer_state), ""), fact.cer_end_date, fact.last_activity_at, fact.created_at,
            ORIGIN.get(Origin(fact.origin), ""), ", ".join(theme_labels.get(t, t) for t in fact.themes))


def person_line(lastname: str, firstname: str, role: str, structures: Sequence[str], email: str, phone: str,
                referent_of: int, active: bool) -> tuple[Any, ...]:
    return (lastname, firstname, ROLE.get(role, role), ", ".join(sorted(structures)), email, phone, referent_of,
            active)


def request_line(lastname, firstname, born, created_at, requested_by, requested_system, reason, status, decided_at,
                 decided_by, decided_system, decision_reason) -> tuple[Any, ...]:
    return (lastname, firstname, born, created_at, requested_by, requested_system, reason,
            REQUEST_STATUS.get(status, status), decided_at, decided_by, decided_system, decision_reason)


def appointment_line(lastname, firstname, born, at, with_name, status, created_at) -> tuple[Any, ...]:
    return (lastname, firstname, born, at, with_name, APPOINTMENT_STATUS.get(status, status), created_at)


def action_line(lastname, firstname, born, theme_label, target, action, status, starting_at, created_at,
                created_by) -> tuple[Any, ...]:
    return (lastname, firstname, born, theme_label, target, action, ACTION_STATUS.get(status, status), starting_at,
            created_at, created_by)


IMPORT_KIND = {"beneficiaries": "Bénéficiaires", "structures": "Structures", "professionals": "Professionnels",
               "orientation-managers": "Chargés d'orientation", "referents": "Rattachements",
               "reorientations": "Réorientations", "caf-msa": "Flux CAF/MSA",
               "france-travail-principal": "Flux France Travail (principal)",
               "france-travail-actions": "Flux France Travail (actions)"}


def import_line(view) -> tuple[Any, ...]:
    """``view``: contracts.imports.ImportView, as the import service lists it."""
    counts = view.counts
    return (view.filename, IMPORT_KIND.get(str(view.kind), str(view.kind)), IMPORT_STATE.get(str(view.state), ""),
            view.rows_total, getattr(counts, "created", 0), getattr(counts, "updated", 0),
            getattr(counts, "rejected", 0), view.created_at, view.created_by_name)


# --- Labels of an export --------------------------------------------------------------------------------------

def filters_summary(filters: BeneficiaryFilters, names: Callable[[uuid.UUID], str] = lambda _id: "") -> list[str]:
    """The filters of an export as the list of exports shows them, in French (« Structure : Insertion 26 »)."""
    def day(value: date | None) -> str:
        return value.strftime("%d/%m/%Y") if value else "…"

    def ids(values) -> str:
        return ", ".join(names(v) or "?" for v in values)

    parts = []
    if filters.structure_ids or filters.without_structure:
        shown = ids(filters.structure_ids)
        if filters.without_structure:
            shown = f"{shown} ou sans structure" if shown else "sans structure"
        parts.append(f"Structure : {shown}")
    if filters.referent_ids:
        parts.append(f"Référent : {ids(filters.referent_ids)}")
    if filters.orientation_system_ids:
        parts.append(f"Dispositif : {ids(filters.orientation_system_ids)}")
    if filters.support:
        parts.append("Accompagnement : " + ", ".join(SUPPORT.get(str(s), str(s)) for s in filters.support))
    if filters.rsa_rights:
        parts.append("Droit RSA : " + ", ".join(RIGHT_RSA.get(str(r), str(r)) for r in filters.rsa_rights))
    if filters.subject_to_right_and_duty is not None:
        parts.append("Soumis aux droits et devoirs : " + ("oui" if filters.subject_to_right_and_duty else "non"))
    if filters.cer_states:
        parts.append("CER : " + ", ".join(CER_STATE[CerState(s)] for s in filters.cer_states))
    for low, high, label in ((filters.cer_end_from, filters.cer_end_to, "Fin du CER"),
                             (filters.last_activity_from, filters.last_activity_to, "Dernière activité"),
                             (filters.created_from, filters.created_to, "Créé")):
        if low or high:
            parts.append(f"{label} : du {day(low)} au {day(high)}")
    if filters.themes:
        parts.append("Thèmes : " + ", ".join(filters.themes))
    if filters.origins:
        parts.append("Origine : " + ", ".join(ORIGIN[Origin(o)] for o in filters.origins))
    if filters.other_than_referent_ids:
        parts.append(f"Référent : un autre que {ids(filters.other_than_referent_ids)}")
    for low, high, label in ((filters.orientation_days_min, filters.orientation_days_max, "Délai d'orientation"),
                             (filters.cer_days_min, filters.cer_days_max, "Délai du premier CER")):
        if low is not None or high is not None:
            parts.append(f"{label} : de {low or 0} à {high} jours" if high is not None
                         else f"{label} : {low} jours ou plus")
    if filters.action_statuses:
        parts.append("Statut de l'action : " + ", ".join(ACTION_STATUS.get(s, s) for s in filters.action_statuses))
    return parts


def label_of(list_name: ExportList, query_name: str = "", changed: bool = False) -> str:
    """« Bénéficiaires — requête « Sans CER » », « … (filtres modifiés) » when its filters were changed."""
    title = LIST_TITLES[list_name]
    if not query_name:
        return title
    return f"{title} — requête « {query_name} »" + (" (filtres modifiés)" if changed else "")


def filename_of(list_name: ExportList, file_format: ExportFormat, at: datetime) -> str:
    """« beneficiaires-2026-11-29-1320.xlsx »: ASCII, the list, the day and the time in Paris, as the page shows it
    (``at`` is UTC)."""
    stems = {ExportList.beneficiaries: "beneficiaires", ExportList.professionals: "professionnels",
             ExportList.structures: "structures", ExportList.orientation_requests: "demandes-de-reorientation",
             ExportList.appointments: "rendez-vous", ExportList.actions: "actions", ExportList.imports: "imports"}
    return f"{stems[list_name]}-{at.astimezone(PARIS).strftime('%Y-%m-%d-%H%M')}.{file_format.value}"
