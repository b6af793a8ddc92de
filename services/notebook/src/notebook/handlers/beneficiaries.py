"""Beneficiaries and their notebook: created by a manager (imports come through data_import), edited field by
field according to the caller's role, every change kept in the history as a rectification trail."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    BeneficiaryContactChangedV1,
    BeneficiaryFields,
    BeneficiaryView,
    ChangeSource,
    CreateBeneficiaryV1,
    NotebookCreatedReply,
    NotebookCreatedV1,
    UpdateBeneficiaryV1,
    VersionReply,
)
from contracts.profiles import BeneficiaryCreatedV1, BeneficiaryUpdatedV1
from notebook.adapters.orm import Beneficiary, Notebook
from notebook.domain.habilitation import Operation, Relation, fields_refused, hidden_fields
from notebook.domain.nir import clean_nir
from notebook.domain.parcours import check_version
from notebook.handlers.caller import Caller, caller_of, name_of, open_notebook, require
from notebook.handlers.deps import Deps
from notebook.handlers.timeline import record
from servicekit.contact import normalise_email, normalise_phone, search_key
from servicekit.errors import Conflict, Forbidden, Invalid

ALREADY_EXISTS = "Ce bénéficiaire a déjà un carnet sur ce territoire (même nom, prénom et date de naissance)."
NIR_TAKEN = "Ce numéro de sécurité sociale est déjà celui d'un autre bénéficiaire."
NAME_REQUIRED = "Le nom et le prénom sont obligatoires."
BAD_EMAIL = "Cette adresse électronique n'est pas valide."
BAD_PHONE = "Ce numéro de téléphone n'est pas valide."
FIELDS_REFUSED = "Vous ne pouvez pas modifier ces informations : {fields}."
FIELD_LABELS = {
    "firstname": "prénom", "lastname": "nom", "date_of_birth": "date de naissance",
    "place_of_birth": "lieu de naissance", "email": "courriel", "mobile_number": "téléphone",
    "address1": "adresse", "address2": "complément d'adresse", "postal_code": "code postal", "city": "ville",
    "nir": "numéro de sécurité sociale", "caf_number": "identifiant CAF/MSA", "pe_number": "identifiant France Travail",
    "external_id": "identifiant dans le SI", "right_rsa": "droit RSA", "right_are": "ARE", "right_ass": "ASS",
    "right_bonus": "prime d'activité", "rsa_suspension_reason": "motif de suspension du RSA",
    "rsa_closure_reason": "motif de clôture du RSA", "rsa_closure_date": "date de clôture du RSA",
    "subject_to_right_and_duty": "soumis aux droits et devoirs",
    "notification_channels": "moyens d'être prévenu",
}
CHANNEL_LABELS = {"sms": "SMS", "email": "courriel"}
CHANNEL_NEEDS = {"sms": ("mobile_number", "Pour être prévenu par SMS, renseignez un numéro de portable."),
                 "email": ("email", "Pour être prévenu par courriel, renseignez une adresse électronique.")}
CONTACT_FIELDS = frozenset({"mobile_number", "email", "notification_channels"})
# Identifiers never written in clear in the history: only that they changed.
SECRET_FIELDS = frozenset({"nir", "caf_number", "pe_number"})


def cleaned(fields: BeneficiaryFields) -> BeneficiaryFields:
    """Trimmed and normalised fields, or a clear error naming the first wrong one."""
    firstname, lastname = fields.firstname.strip(), fields.lastname.strip()
    if not firstname or not lastname:
        raise Invalid(NAME_REQUIRED, details={"field": "lastname" if firstname else "firstname"})
    email = ""
    if fields.email.strip():
        email = normalise_email(fields.email) or ""
        if not email:
            raise Invalid(BAD_EMAIL, details={"field": "email"})
    phone = ""
    if fields.mobile_number.strip():
        phone = normalise_phone(fields.mobile_number) or ""
        if not phone:
            raise Invalid(BAD_PHONE, details={"field": "mobile_number"})
    channels = list(dict.fromkeys(fields.notification_channels))
    for channel in channels:
        needed, message = CHANNEL_NEEDS[channel]
        if not {"email": email, "mobile_number": phone}[needed]:
            raise Invalid(message, details={"field": needed})
    return fields.model_copy(update={
        "firstname": firstname, "lastname": lastname, "email": email, "mobile_number": phone,
        "notification_channels": channels,
        "nir": clean_nir(fields.nir), "caf_number": fields.caf_number.strip(), "pe_number": fields.pe_number.strip(),
        **{name: getattr(fields, name).strip() for name in ("place_of_birth", "address1", "address2", "postal_code",
                                                             "city", "external_id")},
    })


def phone_forms(e164: str) -> tuple[str, ...]:
    """A phone number as people type it: national ("0612345678") and international digits."""
    digits = e164.lstrip("+")
    return ("0" + digits[-9:], digits) if digits else ()


def view_of(beneficiary: Beneficiary, deps: Deps) -> BeneficiaryView:
    p = deps.protection
    return BeneficiaryView(
        beneficiary_id=beneficiary.id, version=beneficiary.version, updated_at=beneficiary.updated_at,
        updated_by_name=beneficiary.updated_by_name, mobile_failed_at=beneficiary.mobile_failed_at,
        email_failed_at=beneficiary.email_failed_at,
        nir=p.decrypt(beneficiary.nir_encrypted), caf_number=p.decrypt(beneficiary.caf_number_encrypted),
        pe_number=p.decrypt(beneficiary.pe_number_encrypted),
        **{name: getattr(beneficiary, name) for name in BeneficiaryFields.model_fields
           if name not in SECRET_FIELDS})


def withhold(view: BeneficiaryView, hidden: frozenset[str]) -> BeneficiaryView:
    """The view without the fields this caller may not see: left out of the reply, never sent as a made-up value."""
    fields = BeneficiaryView.model_fields
    return view.model_copy(update={**{name: fields[name].get_default(call_default_factory=True) for name in hidden},
                                   "withheld": sorted(hidden)})


def apply(beneficiary: Beneficiary, fields: BeneficiaryFields, deps: Deps) -> None:
    p = deps.protection
    for name in BeneficiaryFields.model_fields:
        if name not in SECRET_FIELDS:
            setattr(beneficiary, name, getattr(fields, name))
    beneficiary.right_rsa = fields.right_rsa.value if fields.right_rsa else None
    beneficiary.nir_encrypted, beneficiary.nir_index = p.encrypt(fields.nir), p.index("nir", fields.nir)
    beneficiary.caf_number_encrypted = p.encrypt(fields.caf_number)
    beneficiary.caf_number_index = p.index("caf", fields.caf_number)
    beneficiary.pe_number_encrypted = p.encrypt(fields.pe_number)
    beneficiary.pe_number_index = p.index("pe", fields.pe_number)
    beneficiary.identity_key = f"{search_key(fields.lastname)}|{search_key(fields.firstname)}|{fields.date_of_birth}"
    beneficiary.search_text = search_key(" ".join((fields.firstname, fields.lastname, *phone_forms(fields.mobile_number))))


async def check_unique(session: AsyncSession, beneficiary: Beneficiary) -> None:
    # Without autoflush: an updated beneficiary's new values must be checked, not written first (the unique index
    # would answer before this French message does).
    with session.no_autoflush:
        if await session.scalar(select(Beneficiary.id).where(
                Beneficiary.deployment_id == beneficiary.deployment_id,
                Beneficiary.identity_key == beneficiary.identity_key, Beneficiary.id != beneficiary.id)):
            raise Conflict(ALREADY_EXISTS, details={"field": "lastname"})
        if beneficiary.nir_index and await session.scalar(select(Beneficiary.id).where(
                Beneficiary.nir_index == beneficiary.nir_index, Beneficiary.id != beneficiary.id)):
            raise Conflict(NIR_TAKEN, details={"field": "nir"})


def profile_event(beneficiary: Beneficiary, event_type):
    """Identity keeps the beneficiary's account (login by email or SMS code) from this event."""
    return event_type(
        profile_id=beneficiary.id, deployment_id=beneficiary.deployment_id, email=beneficiary.email or None,
        phone=beneficiary.mobile_number or None, firstname=beneficiary.firstname, lastname=beneficiary.lastname)


async def publish_profile(deps: Deps, session: AsyncSession, beneficiary: Beneficiary, event_type) -> None:
    await deps.outbox.add(session, profile_event(beneficiary, event_type))


async def create_notebook(session: AsyncSession, deps: Deps, deployment_id, fields: BeneficiaryFields,
                          caller: Caller | None, *, notebook_id=None, beneficiary_id=None,
                          source: ChangeSource = ChangeSource.person, author_name: str | None = None) -> Notebook:
    now = deps.clock()
    fields = cleaned(fields)
    beneficiary = Beneficiary(deployment_id=deployment_id, created_at=now)
    if beneficiary_id:
        beneficiary.id = beneficiary_id
    apply(beneficiary, fields, deps)
    await check_unique(session, beneficiary)
    session.add(beneficiary)
    await session.flush()
    notebook = Notebook(beneficiary_id=beneficiary.id, deployment_id=deployment_id, created_at=now)
    if notebook_id:
        notebook.id = notebook_id
    session.add(notebook)
    await session.flush()
    await record(session, deps, notebook, caller, "notebook", "Carnet créé", source=source, author_name=author_name)
    await publish_profile(deps, session, beneficiary, BeneficiaryCreatedV1)
    await deps.outbox.add(session, NotebookCreatedV1(notebook_id=notebook.id, deployment_id=deployment_id,
                                                     beneficiary_id=beneficiary.id))
    return notebook


async def create_beneficiary(request: CreateBeneficiaryV1, ctx, deps: Deps) -> NotebookCreatedReply:
    caller = await caller_of(ctx, deps)
    deployment_id = request.deployment_id or caller.deployment_id
    require(caller, frozenset({Relation.territory}) if deployment_id == caller.deployment_id else frozenset(),
            Operation.create)
    try:
        async with deps.sessions.begin() as session:
            notebook = await create_notebook(session, deps, deployment_id, request.beneficiary, caller)
    except IntegrityError as error:  # the same person created twice at the same instant
        raise Conflict(ALREADY_EXISTS) from error
    return NotebookCreatedReply(notebook_id=notebook.id, beneficiary_id=notebook.beneficiary_id)


def changed_fields(before: BeneficiaryView, after: BeneficiaryFields) -> set[str]:
    return {name for name in BeneficiaryFields.model_fields if getattr(before, name) != getattr(after, name)}


def trail(before: BeneficiaryView, after: BeneficiaryFields, changed: set[str]) -> dict:
    """field → [before, after] for the history; secret identifiers only say that they changed."""
    def shown(name, value):
        if name == "notification_channels":
            return ", ".join(CHANNEL_LABELS[c] for c in value) or "automatique"
        return "•••" if name in SECRET_FIELDS and value else (str(value) if value is not None else "")
    return {name: [shown(name, getattr(before, name)), shown(name, getattr(after, name))] for name in sorted(changed)}


async def update_beneficiary(request: UpdateBeneficiaryV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_public)
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id, with_for_update=True)
        before = view_of(beneficiary, deps)
        hidden = hidden_fields(caller.role, relations)
        # The state a conflict shows is what this caller may see (the public card leaves out the NIR, the rights).
        check_version(beneficiary.version, request.version, withhold(before, hidden).model_dump(mode="json"))
        # What the caller was not shown comes back empty: it stays as it is.
        after = cleaned(request.beneficiary.model_copy(update={name: getattr(before, name) for name in hidden}))
        changed = changed_fields(before, after)
        if not changed:
            return VersionReply(id=beneficiary.id, version=beneficiary.version)
        if refused := fields_refused(caller.role, relations, changed):
            raise Forbidden(FIELDS_REFUSED.format(fields=", ".join(FIELD_LABELS[f] for f in refused)),
                            details={"fields": refused})
        apply(beneficiary, after, deps)
        await check_unique(session, beneficiary)
        if "mobile_number" in changed:
            beneficiary.mobile_failed_at = None
        if "email" in changed:
            beneficiary.email_failed_at = None
        beneficiary.version += 1
        beneficiary.updated_at = deps.clock()
        beneficiary.updated_by_name = await name_of(session, caller)
        await record(session, deps, notebook, caller, "beneficiary",
                     "Informations personnelles mises à jour : " + ", ".join(FIELD_LABELS[f] for f in sorted(changed)),
                     changes=trail(before, after, changed), author_name=beneficiary.updated_by_name)
        await publish_profile(deps, session, beneficiary, BeneficiaryUpdatedV1)
        if changed & CONTACT_FIELDS:
            await deps.outbox.add(session, BeneficiaryContactChangedV1(
                notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=beneficiary.id,
                phone=beneficiary.mobile_number, email=beneficiary.email,
                channels=beneficiary.notification_channels))
    return VersionReply(id=beneficiary.id, version=beneficiary.version)


