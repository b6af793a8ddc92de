"""Contracts: the CER prepared in the tool from what the notebook holds (nothing typed twice), edited by the référent
and the beneficiary together (every save a version), submitted, validated or returned by the territory, signed by
the beneficiary (online, or in person as the référent records it), ended or renewed; and the PPAE, CEJ and PACEA
recorded with their dates. The rules are in ``notebook.domain.contracts``; this module loads, checks and stores."""
from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.notebook import (
    ContractAction,
    ContractContent,
    ContractCreatedV1,
    ContractEndedV1,
    ContractEnding,
    ContractLink,
    ContractObjective,
    ContractPdfReply,
    ContractReturnedV1,
    ContractsEndingReply,
    ContractSignedV1,
    ContractsReply,
    ContractStatus,
    ContractSubmittedV1,
    ContractSummary,
    ContractsToValidateReply,
    ContractToValidate,
    ContractValidatedV1,
    ContractVersionView,
    ContractView,
    CreateContractDraftV1,
    DecideContractV1,
    EndContractV1,
    GetContractPdfV1,
    GetContractV1,
    ListContractsEndingV1,
    ListContractsToValidateV1,
    ListContractsV1,
    MemberType,
    RecordContractV1,
    SignContractV1,
    SubmitContractV1,
    UpdateContractV1,
    VersionReply,
)
from contracts.profiles import DeploymentCreatedV1
from notebook.adapters.contract_pdf import contract_pdf
from notebook.adapters.orm import (
    Action,
    Beneficiary,
    Contract,
    ContractVersion,
    Focus,
    Member,
    Notebook,
    Person,
    RefTheme,
    Target,
    TerritoryRead,
)
from notebook.domain import contracts as rules
from notebook.domain.habilitation import Operation, may
from notebook.domain.parcours import check_version
from notebook.handlers.caller import Caller, beneficiary_name_of, caller_of, name_of, open_notebook
from notebook.handlers.deps import Deps
from notebook.handlers.diagnostic import diagnostic_view
from notebook.handlers.parcours import ACTION_STATUS_LABELS
from notebook.handlers.timeline import record
from notebook.handlers.visits import log_read
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound
from servicekit.inbox import exactly_once

PARIS = ZoneInfo("Europe/Paris")
TERRITORY_CONSUMER = "notebook-territories"
CONTRACT_NOT_FOUND = "Ce contrat n'existe pas."
SIGNATURE_DATE_REQUIRED = "Indiquez la date à laquelle le bénéficiaire a signé en votre présence."
EDITABLE_FIELDS = ("start_date", "end_date", "beneficiary_commitments", "referent_commitments")
FIELD_LABELS = {"start_date": "date de début", "end_date": "date de fin",
                "beneficiary_commitments": "engagements du bénéficiaire",
                "referent_commitments": "engagements du référent", "content": "données du carnet"}


def today_of(deps: Deps) -> date:
    return deps.clock().astimezone(PARIS).date()


def period_of(contract: Contract) -> rules.Period:
    return rules.Period(contract.start_date, contract.end_date)


async def contract_in_reach(session: AsyncSession, caller: Caller, contract_id: uuid.UUID, operation: Operation,
                            *, lock: bool = False) -> tuple[Contract, Notebook, frozenset]:
    contract = await session.get(Contract, contract_id, with_for_update=lock)
    if contract is None:
        raise NotFound(CONTRACT_NOT_FOUND)
    notebook, relations = await open_notebook(session, caller, contract.notebook_id, operation)
    return contract, notebook, relations


# --- What the notebook already holds --------------------------------------------------------------------------

async def notebook_content(session: AsyncSession, notebook: Notebook) -> ContractContent:
    """Identity, situation, diagnostic and the objectives linked to the CER with their actions, as they are now."""
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
    diagnostic = await diagnostic_view(session, notebook)
    themes = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
    targets = (await session.execute(
        select(Target, Focus.theme).join(Focus, Focus.id == Target.focus_id)
        .where(Focus.notebook_id == notebook.id, Focus.deleted_at.is_(None), Target.deleted_at.is_(None),
               Target.linked_to == ContractLink.cer.value)
        .order_by(Focus.created_at, Target.created_at))).all()
    actions = (await session.execute(select(Action).where(
        Action.target_id.in_([t.id for t, _ in targets]), Action.deleted_at.is_(None))
        .order_by(Action.created_at))).scalars().all() if targets else []
    objectives = [ContractObjective(
        target_id=target.id, theme_label=themes.get(theme, theme), target=target.target,
        actions=[ContractAction(action=a.action, status=ACTION_STATUS_LABELS.get(a.status, a.status))
                 for a in actions if a.target_id == target.id]) for target, theme in targets]
    address = " ".join(part for part in (beneficiary.address1, beneficiary.address2, beneficiary.postal_code,
                                         beneficiary.city) if part)
    return ContractContent(
        firstname=beneficiary.firstname, lastname=beneficiary.lastname, date_of_birth=beneficiary.date_of_birth,
        address=address, phone=beneficiary.mobile_number, email=beneficiary.email,
        right_rsa=beneficiary.right_rsa or "", work_situation=diagnostic.work_situation or "",
        situations=[s.description for s in diagnostic.situations if s.theme not in rules.THEMES_LEFT_OUT_OF_CONTRACTS],
        education_level=diagnostic.education_level or "",
        projects=[p.rome_code for p in diagnostic.projects if p.rome_code], objectives=objectives)


async def parties(session: AsyncSession, notebook: Notebook) -> dict:
    """Who a contract's events tell: the référent and the beneficiary."""
    beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
    referent = (await session.execute(select(Person).join(Member, Member.person_id == Person.id).where(
        Member.notebook_id == notebook.id, Member.member_type == MemberType.referent.value,
        Member.ended_at.is_(None)))).scalar_one_or_none()
    return dict(notebook_id=notebook.id, deployment_id=notebook.deployment_id, beneficiary_id=notebook.beneficiary_id,
                referent_email=referent.email if referent else "",
                referent_firstname=referent.firstname if referent else "",
                beneficiary_email=beneficiary.email if beneficiary else "",
                beneficiary_firstname=beneficiary.firstname if beneficiary else "")


def editable_state(contract: Contract) -> dict:
    return {"start_date": contract.start_date.isoformat() if contract.start_date else None,
            "end_date": contract.end_date.isoformat() if contract.end_date else None,
            "beneficiary_commitments": contract.content.get("beneficiary_commitments", ""),
            "referent_commitments": contract.content.get("referent_commitments", "")}


async def keep_version(session: AsyncSession, deps: Deps, contract: Contract, caller: Caller, author: str,
                       summary: str, changed: list[str] | None = None) -> None:
    session.add(ContractVersion(
        contract_id=contract.id, version=contract.version, status=contract.status, start_date=contract.start_date,
        end_date=contract.end_date, content=dict(contract.content), changed=changed or [], summary=summary,
        author_id=caller.profile_id, author_name=author, created_at=deps.clock()))


async def step(session: AsyncSession, deps: Deps, contract: Contract, notebook: Notebook, caller: Caller,
               summary: str, changed: list[str] | None = None) -> str:
    """A new version of the contract, kept with its author, and a line in the notebook's history."""
    contract.version += 1
    author = await name_of(session, caller)
    await keep_version(session, deps, contract, caller, author, summary, changed)
    await record(session, deps, notebook, caller, "contract", f"{summary} ({contract.kind.upper()})",
                 subject_id=contract.id, author_name=author)
    return author


# --- Reading --------------------------------------------------------------------------------------------------

def summary_of(contract: Contract, today: date) -> ContractSummary:
    status = ContractStatus(contract.status)
    return ContractSummary(contract_id=contract.id, kind=contract.kind, status=status,
                           active=rules.is_active(status, period_of(contract), today), start_date=contract.start_date,
                           end_date=contract.end_date, signed_on=contract.signed_on, version=contract.version)


# Built once: the notebook page reads them on every view.
CONTRACTS = (select(Contract).where(Contract.notebook_id == bindparam("notebook_id"))
             .order_by(Contract.created_at.desc()))


async def contract_summaries(session: AsyncSession, notebook: Notebook, today: date) -> list[ContractSummary]:
    rows = (await session.execute(CONTRACTS, {"notebook_id": notebook.id})).scalars().all()
    return [summary_of(contract, today) for contract in rows]


def contract_operations(caller: Caller, relations) -> list[str]:
    return sorted(op.value for op in (Operation.prepare_contract, Operation.edit_contract,
                                      Operation.validate_contract, Operation.sign_contract)
                  if may(caller.role, relations, op))


async def list_contracts(request: ListContractsV1, ctx, deps: Deps) -> ContractsReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        notebook, relations = await open_notebook(session, caller, request.notebook_id, Operation.view_contracts)
        return ContractsReply(notebook_id=notebook.id, beneficiary_name=await beneficiary_name_of(session, notebook),
                              contracts=await contract_summaries(session, notebook, today_of(deps)),
                              allowed=contract_operations(caller, relations))


async def view_of(session: AsyncSession, contract: Contract, today: date, allowed: list[str]) -> ContractView:
    notebook = await session.get(Notebook, contract.notebook_id)
    territory = await session.get(TerritoryRead, notebook.deployment_id)
    versions = (await session.execute(select(ContractVersion).where(ContractVersion.contract_id == contract.id)
                                      .order_by(ContractVersion.version.desc()))).scalars().all()
    status = ContractStatus(contract.status)
    return ContractView(
        contract_id=contract.id, notebook_id=contract.notebook_id, kind=contract.kind, status=status,
        beneficiary_name=await beneficiary_name_of(session, notebook),
        active=rules.is_active(status, period_of(contract), today), version=contract.version,
        territory_name=territory.label if territory else "", start_date=contract.start_date,
        end_date=contract.end_date, content=ContractContent.model_validate(contract.content),
        created_at=contract.created_at, created_by_name=contract.created_by_name,
        submitted_at=contract.submitted_at, decided_on=contract.decided_on, decided_by_name=contract.decided_by_name,
        decision_comment=contract.decision_comment, return_reason=contract.return_reason,
        signed_on=contract.signed_on, signed_in_person=contract.signed_in_person,
        signature_recorded_by_name=contract.signature_recorded_by_name, ended_on=contract.ended_on,
        end_reason=contract.end_reason, renewed_from_id=contract.renewed_from_id,
        versions=[ContractVersionView(version=v.version, created_at=v.created_at, author_name=v.author_name,
                                      summary=v.summary, changed=[FIELD_LABELS.get(f, f) for f in v.changed])
                  for v in versions],
        allowed=allowed)


async def get_contract(request: GetContractV1, ctx, deps: Deps) -> ContractView:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        contract, notebook, relations = await contract_in_reach(session, caller, request.contract_id,
                                                                Operation.view_contracts)
        await log_read(session, deps, caller, notebook)
        return await view_of(session, contract, today_of(deps), contract_operations(caller, relations))


async def get_contract_pdf(request: GetContractPdfV1, ctx, deps: Deps) -> ContractPdfReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        contract, notebook, relations = await contract_in_reach(session, caller, request.contract_id,
                                                                Operation.view_contracts)
        view = await view_of(session, contract, today_of(deps), [])
        beneficiary = await session.get(Beneficiary, notebook.beneficiary_id)
        await log_read(session, deps, caller, notebook)
    # A few hundred milliseconds of work: off the event loop, so that other requests go on meanwhile.
    pdf = await asyncio.to_thread(contract_pdf, view, f"{beneficiary.firstname} {beneficiary.lastname}")
    return ContractPdfReply(filename=f"contrat-{contract.kind}-{contract.id}.pdf",
                            pdf_base64=base64.b64encode(pdf).decode("ascii"))


async def contracts_to_validate(_request: ListContractsToValidateV1, ctx, deps: Deps) -> ContractsToValidateReply:
    caller = await caller_of(ctx, deps)
    if caller.role not in (Role.manager, Role.orientation_manager) or caller.deployment_id is None:
        raise Forbidden("Seuls les gestionnaires et chargés d'orientation du territoire valident les contrats.")
    async with deps.sessions() as session:
        rows = (await session.execute(
            select(Contract, Beneficiary.firstname, Beneficiary.lastname)
            .join(Notebook, Notebook.id == Contract.notebook_id)
            .join(Beneficiary, Beneficiary.id == Notebook.beneficiary_id)
            .where(Notebook.deployment_id == caller.deployment_id,
                   Contract.status == ContractStatus.submitted.value)
            .order_by(Contract.submitted_at).limit(200))).all()
    return ContractsToValidateReply(contracts=[ContractToValidate(
        contract_id=c.id, notebook_id=c.notebook_id, beneficiary_name=f"{first} {last}",
        submitted_at=c.submitted_at, created_by_name=c.created_by_name) for c, first, last in rows])


async def contracts_ending(request: ListContractsEndingV1, _ctx, deps: Deps) -> ContractsEndingReply:
    """For notify's reminder to the référent (internal: no caller)."""
    async with deps.sessions() as session:
        rows = (await session.execute(select(Contract).where(
            Contract.kind == ContractLink.cer.value, Contract.status == ContractStatus.signed.value,
            Contract.end_date >= request.from_date, Contract.end_date <= request.until))).scalars().all()
        endings = []
        for contract in rows:
            who = await parties(session, await session.get(Notebook, contract.notebook_id))
            endings.append(ContractEnding(contract_id=contract.id, notebook_id=contract.notebook_id,
                                          end_date=contract.end_date, referent_email=who["referent_email"],
                                          referent_firstname=who["referent_firstname"]))
    return ContractsEndingReply(contracts=endings)


# --- The CER's steps ------------------------------------------------------------------------------------------

async def create_draft(request: CreateContractDraftV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    try:
        async with deps.sessions.begin() as session:
            notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.prepare_contract)
            if await session.scalar(select(Contract.id).where(
                    Contract.notebook_id == notebook.id, Contract.kind == ContractLink.cer.value,
                    Contract.status.in_([s.value for s in rules.IN_PROGRESS]))):
                raise Conflict(rules.ANOTHER_IN_PROGRESS)
            content = await notebook_content(session, notebook)
            period = rules.Period(None, None)
            if request.renewed_from:
                previous = await session.get(Contract, request.renewed_from)
                if previous is None or previous.notebook_id != notebook.id:
                    raise NotFound(CONTRACT_NOT_FOUND)
                rules.check_can_renew(ContractLink(previous.kind), ContractStatus(previous.status))
                period = rules.renewal_period(period_of(previous))
                # What the two of them wrote last time is the starting point of the new one.
                content = content.model_copy(update={
                    "beneficiary_commitments": previous.content.get("beneficiary_commitments", ""),
                    "referent_commitments": previous.content.get("referent_commitments", "")})
            author = await name_of(session, caller)
            contract = Contract(notebook_id=notebook.id, kind=ContractLink.cer.value,
                                status=ContractStatus.draft.value, start_date=period.start, end_date=period.end,
                                content=content.model_dump(mode="json"), created_at=deps.clock(),
                                created_by=caller.profile_id, created_by_name=author,
                                renewed_from_id=request.renewed_from)
            session.add(contract)
            await session.flush()
            summary = "CER préparé en renouvellement" if request.renewed_from else "CER préparé"
            await keep_version(session, deps, contract, caller, author, summary, ["content"])
            await record(session, deps, notebook, caller, "contract", summary, subject_id=contract.id,
                         author_name=author)
            await deps.outbox.add(session, ContractCreatedV1(contract_id=contract.id,
                                                             **await parties(session, notebook)))
    except IntegrityError as error:  # two drafts at the same instant: the unique index keeps one
        raise Conflict(rules.ANOTHER_IN_PROGRESS) from error
    return VersionReply(id=contract.id, version=contract.version)


async def update_contract(request: UpdateContractV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        contract, notebook, _ = await contract_in_reach(session, caller, request.contract_id,
                                                        Operation.edit_contract, lock=True)
        check_version(contract.version, request.version, editable_state(contract))
        rules.check_editable(ContractStatus(contract.status))
        rules.check_dates(request.start_date, request.end_date)
        before = editable_state(contract)
        contract.start_date, contract.end_date = request.start_date, request.end_date
        contract.content = {**contract.content, "beneficiary_commitments": request.beneficiary_commitments.strip(),
                            "referent_commitments": request.referent_commitments.strip()}
        changed = rules.changed_fields(before, editable_state(contract))
        if not changed:
            return VersionReply(id=contract.id, version=contract.version)
        await step(session, deps, contract, notebook, caller,
                   "CER modifié : " + ", ".join(FIELD_LABELS[f] for f in changed), changed)
    return VersionReply(id=contract.id, version=contract.version)


async def submit_contract(request: SubmitContractV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        contract, notebook, _ = await contract_in_reach(session, caller, request.contract_id,
                                                        Operation.prepare_contract, lock=True)
        check_version(contract.version, request.version, editable_state(contract))
        contract.status = rules.check_can_submit(ContractStatus(contract.status), contract.start_date,
                                                 contract.end_date).value
        contract.submitted_at, contract.return_reason = deps.clock(), ""
        await step(session, deps, contract, notebook, caller, "CER soumis à validation")
        validators = (await session.execute(select(Person.email).where(
            Person.deployment_id == notebook.deployment_id, Person.role == Role.manager.value,
            Person.deactivated_at.is_(None), Person.email != ""))).scalars().all()
        await deps.outbox.add(session, ContractSubmittedV1(contract_id=contract.id, validator_emails=list(validators),
                                                           **await parties(session, notebook)))
    return VersionReply(id=contract.id, version=contract.version)


async def decide_contract(request: DecideContractV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        contract, notebook, _ = await contract_in_reach(session, caller, request.contract_id,
                                                        Operation.validate_contract, lock=True)
        check_version(contract.version, request.version, editable_state(contract))
        contract.status = rules.decide(ContractStatus(contract.status), request.validated, request.comment).value
        decided_on = request.decided_on or today_of(deps)
        rules.check_date(decided_on, "decided_on")
        who = await parties(session, notebook)
        if request.validated:
            contract.decided_on, contract.decision_comment = decided_on, request.comment.strip()
            contract.decided_by_name = await name_of(session, caller)
            await step(session, deps, contract, notebook, caller, "CER validé")
            await deps.outbox.add(session, ContractValidatedV1(contract_id=contract.id, decided_on=decided_on, **who))
        else:
            contract.return_reason = request.comment.strip()
            await step(session, deps, contract, notebook, caller, "CER renvoyé au référent")
            await deps.outbox.add(session, ContractReturnedV1(contract_id=contract.id, **who))
    return VersionReply(id=contract.id, version=contract.version)


async def sign_contract(request: SignContractV1, ctx, deps: Deps) -> VersionReply:
    """Online by the beneficiary (today), or "signé en présence" recorded by a member with the day it was."""
    caller = await caller_of(ctx, deps)
    online = caller.role == Role.beneficiary
    async with deps.sessions.begin() as session:
        contract, notebook, _ = await contract_in_reach(
            session, caller, request.contract_id,
            Operation.sign_contract if online else Operation.prepare_contract, lock=True)
        check_version(contract.version, request.version, editable_state(contract))
        today = today_of(deps)
        if not online and request.signed_on is None:
            raise Invalid(SIGNATURE_DATE_REQUIRED, details={"field": "signed_on"})
        signed_on = today if online else request.signed_on
        contract.status = rules.check_signature(ContractStatus(contract.status), signed_on, today).value
        # No two CER in force at once (the notebook row is locked so that two signatures are checked in turn).
        await session.get(Notebook, notebook.id, with_for_update=True)
        others = (await session.execute(select(Contract).where(
            Contract.notebook_id == notebook.id, Contract.kind == ContractLink.cer.value, Contract.id != contract.id,
            Contract.status == ContractStatus.signed.value))).scalars().all()
        renewed = next((o for o in others if o.id == contract.renewed_from_id), None)
        rules.check_no_other_active(period_of(contract), [period_of(o) for o in others if o is not renewed])
        contract.signed_on, contract.signed_in_person = signed_on, not online
        contract.signature_recorded_by_name = "" if online else await name_of(session, caller)
        await step(session, deps, contract, notebook, caller,
                   "CER signé en ligne par le bénéficiaire" if online else "CER signé en présence du référent")
        who = await parties(session, notebook)
        await deps.outbox.add(session, ContractSignedV1(
            contract_id=contract.id, signed_on=signed_on, in_person=not online, start_date=contract.start_date,
            end_date=contract.end_date, **who))
        if renewed is not None:  # the renewal takes over from the CER it renews
            renewed.status = ContractStatus.renewed.value
            await step(session, deps, renewed, notebook, caller, "CER renouvelé")
            await deps.outbox.add(session, ContractEndedV1(contract_id=renewed.id, ended_on=signed_on, renewed=True,
                                                           **who))
    return VersionReply(id=contract.id, version=contract.version)


async def end_contract(request: EndContractV1, ctx, deps: Deps) -> VersionReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions.begin() as session:
        contract, notebook, _ = await contract_in_reach(session, caller, request.contract_id,
                                                        Operation.prepare_contract, lock=True)
        check_version(contract.version, request.version, editable_state(contract))
        ended_on = request.ended_on or today_of(deps)
        contract.status = rules.check_can_end(ContractStatus(contract.status), ended_on, contract.signed_on).value
        contract.ended_on, contract.end_reason = ended_on, request.reason.strip()
        if contract.end_date is None or ended_on < contract.end_date:
            contract.end_date = ended_on
        await step(session, deps, contract, notebook, caller, "Fin du contrat")
        await deps.outbox.add(session, ContractEndedV1(contract_id=contract.id, kind=contract.kind,
                                                       ended_on=ended_on, **await parties(session, notebook)))
    return VersionReply(id=contract.id, version=contract.version)


async def record_contract(request: RecordContractV1, ctx, deps: Deps) -> VersionReply:
    """A PPAE, CEJ or PACEA: recorded signed, with the objectives linked to it as they are."""
    caller = await caller_of(ctx, deps)
    rules.check_other_kind(request.kind, request.signed_on, request.start_date, request.end_date)
    async with deps.sessions.begin() as session:
        notebook, _ = await open_notebook(session, caller, request.notebook_id, Operation.prepare_contract)
        content = await notebook_content(session, notebook)
        linked = (await session.execute(
            select(Target, Focus.theme).join(Focus, Focus.id == Target.focus_id)
            .where(Focus.notebook_id == notebook.id, Focus.deleted_at.is_(None), Target.deleted_at.is_(None),
                   Target.linked_to == request.kind.value).order_by(Target.created_at))).all()
        themes = dict((await session.execute(select(RefTheme.name, RefTheme.label))).all())
        content = content.model_copy(update={"objectives": [
            ContractObjective(target_id=t.id, theme_label=themes.get(theme, theme), target=t.target)
            for t, theme in linked]})
        author = await name_of(session, caller)
        contract = Contract(notebook_id=notebook.id, kind=request.kind.value, status=ContractStatus.signed.value,
                            start_date=request.start_date, end_date=request.end_date, signed_on=request.signed_on,
                            content=content.model_dump(mode="json"), created_at=deps.clock(),
                            created_by=caller.profile_id, created_by_name=author)
        session.add(contract)
        await session.flush()
        summary = f"Contrat enregistré : {rules.KIND_LABELS[request.kind]}"
        await keep_version(session, deps, contract, caller, author, summary, ["content"])
        await record(session, deps, notebook, caller, "contract", summary, subject_id=contract.id,
                     author_name=author)
    return VersionReply(id=contract.id, version=contract.version)


# --- Read model -----------------------------------------------------------------------------------------------

@exactly_once(TERRITORY_CONSUMER)
async def on_territory_created(event: DeploymentCreatedV1, session: AsyncSession, _deps: Deps) -> None:
    territory = await session.get(TerritoryRead, event.deployment_id)
    if territory is None:
        session.add(TerritoryRead(id=event.deployment_id, label=event.label, department_code=event.department_code))
    else:
        territory.label, territory.department_code = event.label, event.department_code
