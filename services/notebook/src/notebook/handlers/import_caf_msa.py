"""The CAF/MSA RSA flux (spec §4.2): each row is a foyer; each person of the foyer with a NIR is looked for among the
beneficiaries of the uploader's territory (the 13 first characters, by blind index), and each one found gets the
RSA fields the flux says (right, suspension and closure, homelessness, "soumis aux droits et devoirs", CAF/MSA
number), with a history entry, and keeps the foyer as it came as external data.

A NIR of another territory's beneficiary is not looked at: for the uploader it is a person the territory does not
know, reported as such (saying more would tell them that the person is followed elsewhere). The flux is the
truth of the RSA state: a suspension or closure the foyer no longer shows is cleared.

A foyer's outcome is ``updated`` when one of its beneficiaries changed or its raw data is new for one of them
(a foyer already received, same SHA-256, is not kept twice), ``unchanged`` otherwise: importing a flux again
changes nothing. One query per table for the whole batch, in ``prepare``; applying only writes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.imports import ImportRowValues, MatchView, Outcome, ReviewStatus, RowOutcome, RowReview
from contracts.notebook import ChangeSource, RightRsa
from notebook.adapters.orm import Beneficiary, ExternalData, Notebook, TimelineEvent
from notebook.handlers.beneficiaries import FIELD_LABELS, SECRET_FIELDS
from notebook.handlers.deps import Deps
from notebook.handlers.import_beneficiaries import match_label
from notebook.handlers.imports import Effects, Refused, Scope

SOURCE = "cafmsa"
# The foyer unpacked is at most this: what the import service packs is far smaller (a guard, not a limit).
MAX_FOYER_JSON = 4 * 1024 * 1024
UNREADABLE = "Ce foyer n'a pas pu être lu : importez le flux à nouveau."
NO_NIR = "Aucune personne de ce foyer n'a de NIR : il ne peut être rapproché d'aucun bénéficiaire."
NOBODY = ("Aucun bénéficiaire de votre territoire n'a le NIR d'une personne de ce foyer ({nirs}) : rien n'est mis "
          "à jour.")
SOME_UNKNOWN = "Aucun bénéficiaire de votre territoire n'a le NIR {nirs} : cette personne du foyer est ignorée."
# The fields the flux sets, in the order the history names them.
FIELDS = ("right_rsa", "rsa_suspension_reason", "rsa_closure_reason", "rsa_closure_date", "is_homeless",
          "subject_to_right_and_duty", "caf_number")
LABELS = {**FIELD_LABELS, "is_homeless": "sans domicile fixe"}


def masked(nir: str) -> str:
    """A NIR as messages show it: enough to find the person in the file, not the whole identifier."""
    return f"{nir[:5]}•••••{nir[-3:]}" if len(nir) >= 8 else "•••"


@dataclass
class Foyer:
    """A row's values as this service's fields."""

    nirs: list[str]  # 13 characters each
    nir_indexes: list[str]
    duties: list[bool | None]  # "soumis aux droits et devoirs", person by person
    fields: dict[str, Any]  # what every beneficiary of the foyer gets
    flux_date: date | None
    data: str  # the foyer and its flux's identification, JSON
    sha256: str  # of the foyer alone: the same foyer in a later flux is recognised


def unpack(packed: str) -> tuple[str, str]:
    """The JSON the import service packed (base64 of zlib), inflated within bounds; and the SHA-256 of the foyer."""
    inflater = zlib.decompressobj()
    text = inflater.decompress(base64.b64decode(packed, validate=True), MAX_FOYER_JSON)
    if inflater.unconsumed_tail:
        raise ValueError("foyer too large")
    data = json.loads(text)
    foyer = json.dumps(data["foyer"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.decode(), hashlib.sha256(foyer.encode()).hexdigest()


def parse(values: dict[str, Any], deps: Deps) -> Foyer:
    nirs = [str(nir).upper()[:13] for nir in values.get("nirs") or []]
    duties = list(values.get("duties") or [])
    closed_on = values.get("rsa_closure_date")
    data, sha256 = unpack(str(values["foyer"]))
    fields = {
        "right_rsa": RightRsa(values["right_rsa"]).value,
        "rsa_suspension_reason": values.get("rsa_suspension_reason") or "",
        "rsa_closure_reason": values.get("rsa_closure_reason") or "",
        "rsa_closure_date": date.fromisoformat(closed_on) if closed_on else None,
        "is_homeless": bool(values.get("is_homeless")),
        "caf_number": str(values.get("caf_number") or "").strip()[:20],
    }
    flux_date = values.get("flux_date")
    return Foyer(nirs, [deps.protection.index("nir", nir) for nir in nirs], duties + [None] * (len(nirs) - len(duties)),
                 fields, date.fromisoformat(flux_date) if flux_date else None, data, sha256)


@dataclass
class Context:
    scope: Scope
    deps: Deps
    foyers: dict[int, Foyer]
    by_nir: dict[str, Beneficiary]  # by blind index, in the territory
    notebooks: dict[uuid.UUID, Notebook]  # by beneficiary
    latest: dict[uuid.UUID, str]  # by beneficiary: the SHA-256 of the last foyer kept


async def prepare(session: AsyncSession, deps: Deps, scope: Scope, rows: list[ImportRowValues]) -> Context:
    foyers: dict[int, Foyer] = {}
    for row in rows:
        try:
            foyers[row.row] = parse(row.values, deps)
        except (KeyError, ValueError, TypeError, binascii.Error, zlib.error):
            pass  # reviewed as unreadable
    indexes = {index for foyer in foyers.values() for index in foyer.nir_indexes if index}
    by_nir: dict[str, Beneficiary] = {}
    if indexes:  # the territory's only: another's beneficiary is no one here
        by_nir = {b.nir_index: b for b in (await session.execute(select(Beneficiary).where(
            Beneficiary.deployment_id == scope.deployment_id, Beneficiary.nir_index.in_(indexes)))).scalars()}
    ids = [b.id for b in by_nir.values()]
    notebooks, latest = {}, {}
    if ids:
        notebooks = {n.beneficiary_id: n for n in (await session.execute(select(Notebook).where(
            Notebook.beneficiary_id.in_(ids)))).scalars()}
        for beneficiary_id, sha256 in (await session.execute(select(ExternalData.beneficiary_id, ExternalData.sha256)
                                                             .where(ExternalData.beneficiary_id.in_(ids),
                                                                    ExternalData.source == SOURCE)
                                                             .order_by(ExternalData.created_at))).all():
            latest[beneficiary_id] = sha256  # in order: the last one stays
    return Context(scope, deps, foyers, by_nir, notebooks, latest)


@dataclass
class Change:
    """What the flux does to one beneficiary of the foyer."""

    beneficiary: Beneficiary
    notebook: Notebook
    after: dict[str, Any]
    changed: list[str]
    new_data: bool


@dataclass
class Verdict:
    status: ReviewStatus
    changes: list[Change] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def current(beneficiary: Beneficiary, deps: Deps) -> dict[str, Any]:
    values = {name: getattr(beneficiary, name) for name in FIELDS if name != "caf_number"}
    return {**values, "caf_number": deps.protection.decrypt(beneficiary.caf_number_encrypted)}


def verdict(context: Context, row: ImportRowValues) -> Verdict:
    foyer = context.foyers.get(row.row)
    if foyer is None:
        return Verdict(ReviewStatus.invalid, messages=[UNREADABLE])
    if not foyer.nirs:
        return Verdict(ReviewStatus.invalid, messages=[NO_NIR])
    changes, unknown = [], []
    for nir, index, duty in zip(foyer.nirs, foyer.nir_indexes, foyer.duties):
        beneficiary = context.by_nir.get(index)
        notebook = context.notebooks.get(beneficiary.id) if beneficiary else None
        if beneficiary is None or notebook is None:
            unknown.append(masked(nir))
            continue
        if any(change.beneficiary is beneficiary for change in changes):  # the same person twice in the foyer
            continue
        before = current(beneficiary, context.deps)
        # What the foyer does not say of a person (their duties, a number) stays as it is.
        after = {**foyer.fields, "subject_to_right_and_duty": before["subject_to_right_and_duty"] if duty is None
                 else duty, "caf_number": foyer.fields["caf_number"] or before["caf_number"]}
        changed = [name for name in FIELDS if before[name] != after[name]]
        changes.append(Change(beneficiary, notebook, after, changed,
                              context.latest.get(beneficiary.id) != foyer.sha256))
    if not changes:
        return Verdict(ReviewStatus.conflict, messages=[NOBODY.format(nirs=", ".join(unknown))])
    return Verdict(ReviewStatus.same, changes,
                   [SOME_UNKNOWN.format(nirs=nir) for nir in unknown])


def match_of(verdict_: Verdict, deps: Deps) -> MatchView | None:
    if not verdict_.changes:
        return None
    first, others = verdict_.changes[0], len(verdict_.changes) - 1
    label = match_label(first.beneficiary, deps.protection)
    if others:
        label += f" et {others} autre{'s' if others > 1 else ''} personne{'s' if others > 1 else ''} du foyer"
    return MatchView(target_id=first.notebook.id, label=label)


def review(context: Context, row: ImportRowValues) -> RowReview:
    found = verdict(context, row)
    changed = sorted({name for change in found.changes for name in change.changed})
    if any(change.new_data for change in found.changes):
        changed.append("foyer")
    return RowReview(row=row.row, status=found.status, match=match_of(found, context.deps), messages=found.messages,
                     changed=changed if found.status == ReviewStatus.same else [])


def shown(name: str, value: Any) -> str:
    """A value as the history's rectification trail shows it (identifiers masked, as the form's trail does)."""
    if name in SECRET_FIELDS:
        return "•••" if value else ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return "" if value is None else str(value)


def apply_row(context: Context, row: ImportRowValues, effects: Effects) -> RowOutcome:
    found = verdict(context, row)  # again: an earlier row of the batch may have changed the same person
    if found.status != ReviewStatus.same:
        raise Refused(*found.messages)
    foyer, deps, scope = context.foyers[row.row], context.deps, context.scope
    now = deps.clock()
    flux = f"du {foyer.flux_date:%d/%m/%Y}" if foyer.flux_date else "CAF/MSA"
    touched = False
    for change in found.changes:
        beneficiary, notebook = change.beneficiary, change.notebook
        if change.changed:
            before = current(beneficiary, deps)
            for name in change.changed:
                if name == "caf_number":
                    beneficiary.caf_number_encrypted = deps.protection.encrypt(change.after[name])
                    beneficiary.caf_number_index = deps.protection.index("caf", change.after[name])
                else:
                    setattr(beneficiary, name, change.after[name])
            beneficiary.version += 1
            beneficiary.updated_at, beneficiary.updated_by_name = now, scope.author
            effects.insert(2, TimelineEvent.__table__, {
                "id": uuid.uuid4(), "notebook_id": notebook.id, "occurred_at": now, "kind": "beneficiary",
                "summary": f"Droits RSA mis à jour par le flux CAF/MSA {flux} : "
                           + ", ".join(LABELS[name] for name in change.changed),
                "changes": {name: [shown(name, before[name]), shown(name, change.after[name])]
                            for name in change.changed},
                "subject_id": None, "author_id": scope.actor.profile_id, "author_name": scope.author,
                "source": ChangeSource.import_.value})
            effects.touch(notebook.id, now)
        if change.new_data:
            effects.insert(0, ExternalData.__table__, {
                "id": uuid.uuid4(), "beneficiary_id": beneficiary.id, "source": SOURCE,
                "data_encrypted": deps.protection.encrypt(foyer.data), "sha256": foyer.sha256,
                "received_on": foyer.flux_date, "created_at": now})
            context.latest[beneficiary.id] = foyer.sha256
        touched = touched or bool(change.changed) or change.new_data
    return RowOutcome(row=row.row, outcome=Outcome.updated if touched else Outcome.unchanged,
                      target_id=found.changes[0].notebook.id, messages=found.messages)


class CafMsaImport:
    batchable = True

    async def prepare(self, session, deps, scope, rows):
        return await prepare(session, deps, scope, rows)

    def review(self, context, row):
        return review(context, row)

    async def apply(self, session, deps, context, row, effects):
        return apply_row(context, row, effects)


CAF_MSA = CafMsaImport()


# Built once: the notebook page asks on every view.
LAST_FLUX = (select(ExternalData.received_on)
             .where(ExternalData.beneficiary_id == bindparam("beneficiary_id"), ExternalData.source == SOURCE)
             .order_by(ExternalData.created_at.desc()).limit(1))


async def last_flux_date(session: AsyncSession, beneficiary_id: uuid.UUID) -> date | None:
    """The date of the last CAF/MSA flux kept for the beneficiary, for the notebook page ("Flux CAF/MSA du …")."""
    return await session.scalar(LAST_FLUX, {"beneficiary_id": beneficiary_id})
