"""A bilan d'accompagnement as a PDF, with the contracts' machinery (fpdf2, the territory's header, French text):
its period, each objective and action with its progress, the assessment, the next steps, who wrote it and when."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from contracts.bilans import BilanChange, BilanView
from notebook.adapters.contract_pdf import ContractDocument, french_date

PARIS = ZoneInfo("Europe/Paris")


def change_line(change: BilanChange) -> str:
    return f"    le {french_date(change.day)} : {change.before} → {change.after}"


class BilanDocument(ContractDocument):
    def text(self, value: str) -> str:
        # Helvetica's Latin-1 lacks the arrow of "en projet → en cours" (DejaVu Sans has it).
        return super().text(value if self.unicode else value.replace("→", "->"))


def bilan_pdf(bilan: BilanView) -> bytes:
    document = BilanDocument()
    document.line(bilan.territory_name or "Carnet de bord", size=14, bold=True)
    document.line("Carnet de bord", size=9)
    document.pdf.ln(3)
    document.line("Bilan d'accompagnement", size=16, bold=True)
    document.line(f"Bilan du {french_date(bilan.bilan_date)}", size=11)
    period = (f"Progression depuis le bilan du {french_date(bilan.previous_date)}" if bilan.previous_date
              else "Premier bilan : progression depuis le début de l'accompagnement")
    document.line(period, size=9, gap=3)

    document.heading("Le bénéficiaire")
    document.line(bilan.beneficiary_name or "Non renseigné")

    document.heading("Objectifs et actions")
    if not bilan.objectives:
        document.line("Aucun objectif dans le plan d'action à cette date.")
    for objective in bilan.objectives:
        label = f"{objective.theme_label} : {objective.target}" if objective.theme_label else objective.target
        document.line(label, bold=True)
        document.line(f"Objectif {objective.status_label} – {objective.progress}")
        for change in objective.changes:
            document.line(change_line(change), size=9)
        for action in objective.actions:
            document.line(f"- {action.action} : {action.status_label} ({action.progress})")
            for change in action.changes:
                document.line(change_line(change), size=9)
        document.pdf.ln(1)

    document.heading("Appréciation du professionnel")
    document.line(bilan.assessment or "Non renseignée.")
    document.heading("Prochaines étapes")
    document.line(bilan.next_steps or "Non renseignées.")

    written = bilan.created_at.astimezone(PARIS)
    document.pdf.ln(2)
    document.line(f"Rédigé par {bilan.created_by_name or 'un professionnel'} le {written.strftime('%d/%m/%Y à %H:%M')}",
                  size=9)
    return document.output()
