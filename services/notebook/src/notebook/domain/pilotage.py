"""Pilotage's rules for one notebook's facts, pure (no database, no clock): its support status, the state of its
current CER, and where it came from. handlers.pilotage_facts reads the rows and applies these."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contracts.notebook import ChangeSource, ContractStatus, SupportStatus
from contracts.pilotage import CerState, Origin


def support_of(has_referent: bool, has_structure: bool) -> SupportStatus:
    """As the beneficiaries' lists (handlers.search.SUPPORT): an active référent is accompanied; a following
    structure without référent waits for one; neither is not accompanied."""
    if has_referent:
        return SupportStatus.accompanied
    if has_structure:
        return SupportStatus.waiting
    return SupportStatus.not_accompanied


@dataclass(frozen=True)
class CerFacts:
    """One CER of a notebook, as the state rule needs it."""

    status: str  # contracts.notebook.ContractStatus
    created_at: datetime
    end_date: date | None = None
    signed_on: date | None = None


@dataclass(frozen=True)
class CerSummary:
    state: CerState
    end_date: date | None
    first_signed_on: date | None


def cer_summary(cers: list[CerFacts]) -> CerSummary:
    """The current CER is the latest one not renewed (a renewal is a new CER: the renewed one is history); its
    state is the notebook's CER state, ``none`` when it never had one. The first signature dates the entry into a
    contract (a CER renewed or ended was signed too)."""
    signed = [c.signed_on for c in cers if c.signed_on]
    current = [c for c in cers if c.status != ContractStatus.renewed.value]
    if not current:
        # Only renewed ones (their renewal was deleted?): the latest of them still tells the end date.
        current = cers
    if not current:
        return CerSummary(CerState.none, None, None)
    latest = max(current, key=lambda c: c.created_at)
    try:
        state = CerState(latest.status)
    except ValueError:
        state = CerState.signed  # "renewed" alone: it had been signed
    return CerSummary(state, latest.end_date, min(signed) if signed else None)


EXTERNAL_ORIGINS = {"cafmsa": Origin.cafmsa, "france_travail": Origin.france_travail}


def origin_of(first_source: str | None, external_sources: set[str] | frozenset[str] = frozenset()) -> Origin:
    """Where the notebook came from: the source of its first history entry ("Carnet créé"); an import that
    brought a flux's data when it created the notebook (``external_sources``: ExternalData received then) is that
    flux (CAF/MSA or France Travail), else a file import."""
    if first_source == ChangeSource.partner.value:
        return Origin.partner
    if first_source == ChangeSource.france_travail.value:
        return Origin.france_travail
    if first_source == ChangeSource.import_.value:
        for source, origin in EXTERNAL_ORIGINS.items():
            if source in external_sources:
                return origin
        return Origin.file_import
    return Origin.manual
