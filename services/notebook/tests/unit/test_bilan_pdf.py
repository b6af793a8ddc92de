"""A bilan's PDF (fpdf2, the contracts' machinery): its text read back with pypdf, with DejaVu Sans and with the
Latin-1 core font a system without it falls back to."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from contracts.bilans import BilanAction, BilanChange, BilanObjective, BilanView
from notebook.adapters import contract_pdf
from notebook.adapters.bilan_pdf import bilan_pdf

pytestmark = pytest.mark.unit

BILAN = BilanView(
    bilan_id=uuid.uuid4(), notebook_id=uuid.uuid4(), bilan_date=date(2026, 11, 28), previous_date=date(2026, 9, 1),
    territory_name="Territoire de la Drôme", beneficiary_name="Sophie Tifour",
    objectives=[BilanObjective(
        target_id=uuid.uuid4(), theme_label="Emploi", target="Trouver un emploi de cœur de métier", status="done",
        status_label="réalisé", progress="en cours → réalisé",
        changes=[BilanChange(day=date(2026, 10, 2), before="en cours", after="réalisé")],
        actions=[BilanAction(action_id=uuid.uuid4(), action="Atelier CV", status="done", status_label="réalisée",
                             new=True, progress="Nouveau depuis le dernier bilan")])],
    assessment="Bonne dynamique", next_steps="Deux entretiens",
    created_at=datetime(2026, 11, 28, 9, tzinfo=timezone.utc), created_by_name="Pierre Chevalier")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_says_the_period_the_progress_and_what_the_professional_wrote():
    text = text_of(bilan_pdf(BILAN))
    for expected in ("Territoire de la Drôme", "Bilan d'accompagnement", "Bilan du 28/11/2026",
                     "depuis le bilan du 01/09/2026", "Sophie Tifour", "Emploi : Trouver un emploi", "réalisé",
                     "Atelier CV : réalisée (Nouveau depuis le dernier bilan)", "le 02/10/2026", "Bonne dynamique",
                     "Deux entretiens", "Rédigé par Pierre Chevalier le 28/11/2026 à 10:00"):
        assert expected in text, expected


def test_without_a_unicode_font_the_arrows_and_ligatures_are_spelt_out(monkeypatch):
    monkeypatch.setattr(contract_pdf, "UNICODE_FONT", Path("/nonexistent/DejaVuSans.ttf"))
    text = text_of(bilan_pdf(BILAN))
    assert "en cours -> réalisé" in text and "coeur de métier" in text
