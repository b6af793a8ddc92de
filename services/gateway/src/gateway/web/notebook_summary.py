"""The summary band at the top of the notebook page: what a référent looks for first (who follows, which dispositif,
the rights, the CER, the next appointment, an open request, unread exchanges), each linking to its section. Built
from the page's reply alone: nothing more is asked of the services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contracts.notebook import ContractStatus, NotebookPage
from gateway.web import labels
from gateway.web.formatting import PARIS

ENDING_SOON_DAYS = 30


@dataclass(frozen=True)
class SummaryItem:
    """One entry of the band: its label, what it says, a detail under it, the section it links to; ``alert``
    marks what asks for action (a CER ending, a request to decide, unread messages)."""

    key: str
    label: str
    value: str
    href: str
    detail: str = ""
    alert: bool = False


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def referent_item(page: NotebookPage, mine: bool) -> SummaryItem:
    active = [m for m in page.members if m.ended_at is None]
    referent = next((m for m in active if m.member_type == "referent"), None)
    current = [s.name for s in page.structures if s.status == "current"]
    label = "Mon référent" if mine else "Référent"
    if referent is not None:
        person = referent.person
        return SummaryItem("referent", label, f"{person.firstname} {person.lastname.upper()}", "#groupe",
                           person.structure_name or ", ".join(current))
    if current:
        return SummaryItem("referent", label, "En attente d'un référent", "#groupe", ", ".join(current),
                           alert=not mine)
    return SummaryItem("referent", label, "Aucun accompagnement pour le moment", "#groupe")


def orientation_item(page: NotebookPage, mine: bool) -> SummaryItem:
    detail = f"Décision du {page.oriented_at.astimezone(PARIS):%d/%m/%Y}" if page.oriented_at else ""
    return SummaryItem("orientation", "Mon accompagnement" if mine else "Orientation",
                       page.orientation_system_name or ("Pas encore décidé" if mine else "Non orienté"),
                       "#orientation" if page.access == "full" else "#groupe", detail)


def rights_item(page: NotebookPage, mine: bool) -> SummaryItem | None:
    b = page.beneficiary
    if "right_rsa" in b.withheld:
        return None
    value = f"RSA – {labels.RIGHT_RSA[b.right_rsa]}" if b.right_rsa else "RSA non renseigné"
    duty = "Soumis aux droits et devoirs" if b.subject_to_right_and_duty else "Non soumis aux droits et devoirs"
    return SummaryItem("rights", "Mes droits" if mine else "Droits", value, "#informations", duty,
                       alert=b.right_rsa in ("rsa_droit_ouvert_versement_suspendu", "rsa_droit_ouvert_et_suspendu",
                                             "rsa_clos", "rsa_clos_anterieur"))


def cer_item(page: NotebookPage, today: date, mine: bool = False) -> SummaryItem | None:
    if "view_contracts" not in page.allowed:  # no section to link to
        return None
    item = cer_state(page, today)
    return item if not mine else SummaryItem(item.key, "Mon contrat d'engagement (CER)", item.value, item.href,
                                             item.detail, item.alert)


def cer_state(page: NotebookPage, today: date) -> SummaryItem:
    cer = next((c for c in page.contracts if c.kind == "cer" and c.status != ContractStatus.renewed), None)
    if cer is None:
        return SummaryItem("cer", "CER", "Aucun CER", "#contrats")
    status, end = cer.status, cer.end_date
    if status == ContractStatus.signed and cer.active and end:
        soon = end <= today + timedelta(days=ENDING_SOON_DAYS)
        return SummaryItem("cer", "CER", f"Se termine le {day(end)}" if soon else "En vigueur", "#contrats",
                           f"Du {day(cer.start_date)} au {day(end)}" if cer.start_date else f"Jusqu'au {day(end)}",
                           alert=soon)
    if status == ContractStatus.signed and cer.start_date and cer.start_date > today:
        return SummaryItem("cer", "CER", "Signé", "#contrats", f"Commence le {day(cer.start_date)}")
    if status == ContractStatus.ended or (status == ContractStatus.signed and end and end < today):
        return SummaryItem("cer", "CER", "Terminé", "#contrats", f"Le {day(end)}" if end else "", alert=True)
    detail = f"Prévu du {day(cer.start_date)} au {day(end)}" if cer.start_date and end else ""
    return SummaryItem("cer", "CER", labels.CONTRACT_STATUS[status], "#contrats", detail)


def appointment_item(page: NotebookPage, now: datetime, mine: bool) -> SummaryItem | None:
    if page.access != "full":
        return None
    coming = sorted((a for a in page.appointments if a.status == "planned" and a.at >= now), key=lambda a: a.at)
    label = "Mon prochain rendez-vous" if mine else "Prochain rendez-vous"
    if not coming:
        return SummaryItem("appointment", label, "Aucun rendez-vous prévu", "#rendez-vous")
    first = coming[0]
    return SummaryItem("appointment", label,
                       f"{first.at.astimezone(PARIS):%d/%m/%Y} à {first.at.astimezone(PARIS):%H:%M}", "#rendez-vous",
                       f"Avec {first.person.firstname} {first.person.lastname.upper()}")


def request_item(page: NotebookPage, mine: bool) -> SummaryItem | None:
    if page.access != "full" or mine:  # the professionals' matter until an orientation is decided
        return None
    r = page.orientation_request
    if r is None or r.status != "pending":
        return SummaryItem("request", "Réorientation", "Aucune demande en cours", "#orientation")
    return SummaryItem("request", "Réorientation", f"Demandée le {r.requested_at.astimezone(PARIS):%d/%m/%Y}",
                       "#orientation", f"Vers {r.requested_orientation_system_name}", alert=True)


def exchanges_item(exchanges, mine: bool) -> SummaryItem | None:
    if exchanges is None:
        return None
    if mine:
        count = len(exchanges.messages)
        return SummaryItem("exchanges", "Messages", f"{count} message{'s' if count > 1 else ''} partagé"
                           f"{'s' if count > 1 else ''} avec moi" if count else "Aucun message", "#echanges")
    unread = exchanges.unread
    return SummaryItem("exchanges", "Échanges", f"{unread} message{'s' if unread > 1 else ''} non lu"
                       f"{'s' if unread > 1 else ''}" if unread else "Aucun message non lu", "#echanges",
                       alert=bool(unread))


def summary_band(page: NotebookPage, exchanges, *, mine: bool, now: datetime) -> list[SummaryItem]:
    today = now.astimezone(PARIS).date()
    items = [referent_item(page, mine), orientation_item(page, mine), rights_item(page, mine),
             cer_item(page, today, mine), appointment_item(page, now, mine), request_item(page, mine),
             exchanges_item(exchanges, mine)]
    return [item for item in items if item is not None]


@dataclass(frozen=True)
class Tab:
    """A tab of the notebook: the panel (``onglet-<key>``) that notebook.html.j2 groups sections in, its label and
    the anchor of its first section (without JavaScript the tab is a link to it)."""

    key: str
    label: str
    href: str


def sections(page: NotebookPage, exchanges) -> list[Tab]:
    """The notebook's tabs, for the panels the page shows."""
    full, can = page.access == "full", set(page.allowed)
    shown = [("situation", "Situation", "#informations", True),
             ("parcours", "Parcours", "#orientation", full),
             ("rendez-vous", "Rendez-vous", "#rendez-vous", full),
             ("contrats", "Contrats", "#contrats" if "view_contracts" in can else "#bilans",
              full and bool(can & {"view_contracts", "view_bilans"})),
             ("echanges", "Échanges", "#echanges", full and exchanges is not None),
             ("historique", "Historique", "#historique" if full else "#consultations",
              full or "view_access_log" in can)]
    return [Tab(key, label, href) for key, label, href, visible in shown if visible]
