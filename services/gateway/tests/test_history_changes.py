"""The history's changes in French: labels for codes, French dates and phones, « modifié » for secrets."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.notebook import FieldChange, TimelineEntry
from gateway.web.history import changes_of

pytestmark = pytest.mark.unit


def entry(kind: str, *changes: tuple[str, str | None, str | None]) -> TimelineEntry:
    return TimelineEntry(entry_id=uuid.uuid4(), occurred_at=datetime.now(UTC), kind=kind, summary="…",
                         changes=[FieldChange(field=f, before=b, after=a) for f, b, a in changes])


def lines(e: TimelineEntry) -> list[str]:
    return [f"{c.label} : modifié" if c.secret else f"{c.label} : {c.before} → {c.after}" for c in changes_of(e)]


def test_codes_dates_phones_and_yes_no_read_as_a_person_writes_them():
    assert lines(entry("beneficiary", ("mobile_number", "+33612345678", "+33781223344"),
                       ("rsa_closure_date", "", "2026-03-01"), ("right_rsa", "rsa_demande_en_attente", "rsa_clos"),
                       ("subject_to_right_and_duty", "False", "True"))) == [
        "Téléphone : 06 12 34 56 78 → 07 81 22 33 44", "Date de clôture du RSA : non renseigné → 01/03/2026",
        "Droit RSA : Demande en attente → Droit clos", "Soumis aux droits et devoirs : non → oui"]
    assert lines(entry("action", ("status", "planned", "in_progress"))) == ["Statut de l'action : En projet → En cours"]
    assert lines(entry("target", ("status", "in_progress", "done"))) == ["Statut de l'objectif : En cours → Réalisé"]
    assert lines(entry("diagnostic", ("work_situation", "", "emploi"))) == [
        "Situation actuelle : non renseigné → En emploi"]


def test_a_secret_identifier_only_says_that_it_changed():
    assert lines(entry("beneficiary", ("nir", None, None))) == ["Numéro de sécurité sociale : modifié"]
