"""A contract as a PDF (fpdf2): the territory's header, the parties, what the notebook held when it was prepared,
the objectives and actions, the commitments, the dates, the validation and the signature.

French text needs a Unicode font: DejaVu Sans where the system has it (Debian's fonts-dejavu-core); otherwise the
PDF core font Helvetica, whose Latin-1 encoding lacks a few French characters (œ, ’, …), spelt out instead.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from contracts.notebook import ContractView
from notebook.domain.contracts import KIND_LABELS, STATUS_LABELS

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
LATIN_1_SPELLING = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...",
                                  "–": "-", "—": "-", "\u202f": " ", "€": "EUR"})


def french_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "non renseignée"


class ContractDocument:
    def __init__(self) -> None:
        # Imported at the first PDF, not at start: fpdf2 with the fontTools it subsets fonts with hold ~17 MB that an
        # idle service need not (issue 19: idle RSS < 90 MB). The first PDF pays the import once (a few tenths of a
        # second, in its worker thread).
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(18, 15, 18)
        self.unicode = UNICODE_FONT.is_file() and UNICODE_BOLD_FONT.is_file()
        if self.unicode:
            self.pdf.add_font("DejaVu", "", str(UNICODE_FONT))
            self.pdf.add_font("DejaVu", "B", str(UNICODE_BOLD_FONT))
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.pdf.add_page()

    def text(self, value: str) -> str:
        return value if self.unicode else value.translate(LATIN_1_SPELLING).encode("latin-1", "replace").decode(
            "latin-1")

    def line(self, value: str, *, size: int = 10, bold: bool = False, gap: float = 1) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(gap)

    def heading(self, value: str) -> None:
        self.pdf.ln(2)
        self.line(value, size=12, bold=True)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def contract_pdf(contract: ContractView, beneficiary_name: str) -> bytes:
    document = ContractDocument()
    c = contract.content
    document.line(contract.territory_name or "Carnet de bord", size=14, bold=True)
    document.line("Carnet de bord", size=9)
    document.pdf.ln(3)
    document.line(KIND_LABELS[contract.kind], size=16, bold=True)
    document.line(f"État : {STATUS_LABELS[contract.status]} (version {contract.version})", size=9, gap=3)

    document.heading("Le bénéficiaire")
    document.line(beneficiary_name)
    if c.date_of_birth:
        document.line(f"Né(e) le {french_date(c.date_of_birth)}")
    for value in (c.address, c.phone, c.email):
        if value:
            document.line(value)

    document.heading("Durée du contrat")
    document.line(f"Du {french_date(contract.start_date)} au {french_date(contract.end_date)}")

    if c.situations or c.projects:
        document.heading("Situation et diagnostic")
        for situation in c.situations:
            document.line(f"- {situation}")
        for project in c.projects:
            document.line(f"- Projet professionnel : {project}")

    document.heading("Objectifs et actions")
    if not c.objectives:
        document.line("Aucun objectif n'est lié à ce contrat.")
    for objective in c.objectives:
        label = f"{objective.theme_label} : {objective.target}" if objective.theme_label else objective.target
        document.line(label, bold=True)
        for action in objective.actions:
            document.line(f"- {action.action}" + (f" ({action.status})" if action.status else ""))

    document.heading("Engagements du bénéficiaire")
    document.line(c.beneficiary_commitments or "Non renseignés.")
    document.heading("Engagements du référent")
    document.line(c.referent_commitments or "Non renseignés.")

    document.heading("Validation et signature")
    document.line(f"Préparé par {contract.created_by_name or 'le référent'}")
    if contract.decided_on and contract.decided_by_name:
        document.line(f"Validé le {french_date(contract.decided_on)} par {contract.decided_by_name}"
                      + (f" : {contract.decision_comment}" if contract.decision_comment else ""))
    if contract.signed_on:
        how = (f"signé en présence du référent (enregistré par {contract.signature_recorded_by_name})"
               if contract.signed_in_person else "signé en ligne par le bénéficiaire")
        document.line(f"Signé le {french_date(contract.signed_on)} : {how}")
    else:
        document.line("Pas encore signé.")
    if contract.ended_on:
        document.line(f"Terminé le {french_date(contract.ended_on)}"
                      + (f" : {contract.end_reason}" if contract.end_reason else ""))
    return document.output()
