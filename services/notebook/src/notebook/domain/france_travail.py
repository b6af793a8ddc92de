"""France Travail's "diagnostic argumenté" (spec §3.10, §4.4) as the notebook shows it: pure functions.

The dossier comes from outside: every field may be missing, null or of another type, and none of it may break
the page. What is shown: the contraintes France Travail worked on (OUI, CLOTUREE), the situations it found
(OUI) and the objectives it set (all but NON_ABORDE); each job's strengths and needs.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from contracts.notebook import FranceTravailConstraint, FranceTravailItem, FranceTravailJobNeeds

# A dossier fetched less than an hour ago is not asked again when a notebook is opened (spec §3.10).
FRESHNESS = timedelta(hours=1)
UNAVAILABLE = "France Travail ne répond pas, réessayez plus tard."


class FranceTravailUnavailable(Exception):
    """France Travail did not answer usefully; ``str()`` is for the logs, ``message`` for the user."""

    message = UNAVAILABLE

SHOWN_CONSTRAINTS = ("OUI", "CLOTUREE")
SHOWN_SITUATIONS = ("OUI",)
HIDDEN_OBJECTIVES = ("NON_ABORDE",)


@dataclass(frozen=True)
class DiagnosticArgumente:
    updated_on: date | None = None
    constraints: list[FranceTravailConstraint] = field(default_factory=list)
    job_needs: list[FranceTravailJobNeeds] = field(default_factory=list)


def canonical(dossier: dict[str, Any]) -> str:
    """The dossier's JSON, keys sorted: the same dossier gives the same text, hence the same fingerprint."""
    return json.dumps(dossier, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(dossier: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(dossier).encode()).hexdigest()


def is_stale(checked_at: datetime | None, now: datetime) -> bool:
    return checked_at is None or now - checked_at >= FRESHNESS


def diagnostic_of(dossier: dict[str, Any]) -> DiagnosticArgumente:
    constraints_dto = _object(dossier.get("contraintesIndividusDto"))
    constraints = [_constraint(c) for c in map(_object, _list(constraints_dto.get("contraintes")))
                   if _text(c.get("valeur")) in SHOWN_CONSTRAINTS and _text(c.get("libelle"))]
    job_needs = [_job(j) for j in map(_object, _list(dossier.get("besoinsParDiagnosticIndividuDtos")))
                 if _text(j.get("nomMetier"))]
    return DiagnosticArgumente(updated_on=_date(constraints_dto.get("dateDeModification")),
                               constraints=constraints, job_needs=job_needs)


def _constraint(raw: dict[str, Any]) -> FranceTravailConstraint:
    return FranceTravailConstraint(
        code=_text(raw.get("code")), label=_text(raw.get("libelle")), value=_text(raw.get("valeur")),
        noted_on=_date(raw.get("date")),
        situations=[s for s in _items(raw.get("situations")) if s.value in SHOWN_SITUATIONS],
        objectives=[o for o in _items(raw.get("objectifs")) if o.value not in HIDDEN_OBJECTIVES])


def _job(raw: dict[str, Any]) -> FranceTravailJobNeeds:
    return FranceTravailJobNeeds(
        job=_text(raw.get("nomMetier")), status=_text(raw.get("statut")), typology=_text(raw.get("typologie")),
        priority=raw.get("estPrioritaire") is True, updated_on=_date(raw.get("dateMiseAJour")),
        needs=_items(raw.get("besoins")))


def _items(value: Any) -> list[FranceTravailItem]:
    return [FranceTravailItem(code=_text(i.get("code")), label=_text(i.get("libelle")), value=_text(i.get("valeur")))
            for i in map(_object, _list(value)) if _text(i.get("libelle"))]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: Any) -> date | None:
    """ISO dates and date-times ("2023-09-11T10:08:19.000+00:00") as France Travail writes them."""
    text = _text(value)
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None
