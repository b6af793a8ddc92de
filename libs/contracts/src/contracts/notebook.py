"""The notebook ("carnet de bord"): one beneficiary's journey on one page.

Commands that change a part of the notebook carry the ``version`` the caller read: if someone changed
it meanwhile the answer is a conflict carrying the current version, never a silent overwrite.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import IntegrationEvent, RpcReply, RpcRequest, WireModel, Withholding
from contracts.inputs import AppointmentTime, BirthDate, Line, Offset, PostalCode, Text, Version
from contracts.identity import AcceptedReply
from contracts.notify import Channel
from contracts.registry import register


class RightRsa(StrEnum):
    droit_ouvert_versable = "rsa_droit_ouvert_versable"
    droit_ouvert_et_suspendu = "rsa_droit_ouvert_et_suspendu"
    droit_ouvert_versement_suspendu = "rsa_droit_ouvert_versement_suspendu"
    demande_en_attente = "rsa_demande_en_attente"
    refuse = "rsa_refuse"
    clos = "rsa_clos"
    clos_anterieur = "rsa_clos_anterieur"


class WorkSituation(StrEnum):
    recherche_emploi = "recherche_emploi"
    recherche_formation = "recherche_formation"
    recherche_alternance = "recherche_alternance"
    recherche_stage = "recherche_stage"
    emploi = "emploi"
    formation = "formation"
    stage = "stage"
    alternance = "alternance"
    service_civique = "service_civique"
    iae = "iae"
    interim = "interim"
    construction_projet = "construction_projet"
    projet_entrepreneurial = "projet_entrepreneurial"
    entrepreneur = "entrepreneur"
    etudiant = "etudiant"
    scolarise = "scolarisé"
    enretraite = "enretraite"
    maladie = "maladie"
    invalidite = "invalidite"
    conge_parental = "conge_parental"
    au_foyer = "au_foyer"
    autre = "autre"
    cdi_temps_plein = "cdi_temps_plein"
    cdi_temps_partiel = "cdi_temps_partiel"
    cdd_temps_plein = "cdd_temps_plein"
    cdd_temps_partiel = "cdd_temps_partiel"
    intermittent = "intermittent"
    aidant_familial = "aidant_familial"
    exploitant_agricole = "exploitant_agricole"


class EducationLevel(StrEnum):
    AFS = "AFS"
    C12 = "C12"
    C3A = "C3A"
    CFG = "CFG"
    CP4 = "CP4"
    NV5 = "NV5"
    NV4 = "NV4"
    NV3 = "NV3"
    NV2 = "NV2"
    NV1 = "NV1"


class ContractLink(StrEnum):
    """A notebook's contract, and the contract an objective is linked to."""

    cer = "cer"
    cej = "cej"
    ppae = "ppae"
    pacea = "pacea"
    no = "no"


class JobContractType(StrEnum):
    cdi = "cdi"
    cdd = "cdd"
    interim = "interim"
    saisonnier = "saisonnier"
    liberal = "liberal"
    contrat_professionnalisation = "contrat_professionnalisation"
    apprentissage = "apprentissage"
    portage_salarial = "portage_salarial"


class EmploymentType(StrEnum):
    full_time = "full_time"
    part_time = "part_time"


class MemberType(StrEnum):
    referent = "referent"
    no_referent = "no_referent"
    orientation_manager = "orientation_manager"


class MembershipEndReason(StrEnum):
    left = "left"                  # "Se détacher"
    replaced = "replaced"          # another référent took over; the former one stays as a member
    removed = "removed"            # removed by a structure admin or a manager
    deactivated = "deactivated"    # the professional's profile was deactivated


class TargetStatus(StrEnum):
    in_progress = "in_progress"
    done = "done"
    abandoned = "abandoned"


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    standby = "standby"
    done = "done"
    abandoned = "abandoned"    # by the beneficiary
    canceled = "canceled"      # by the structure


class AppointmentStatus(StrEnum):
    planned = "planned"
    present = "present"
    absent = "absent"
    excused = "excused"
    cancelled = "cancelled"


class ChangeSource(StrEnum):
    """Where a change of the notebook came from, shown in its history."""

    person = "person"
    import_ = "import"
    france_travail = "france_travail"
    partner = "partner"


class SupportStatus(StrEnum):
    """The v1 list filters: accompanied = active référent; waiting = a current structure but no référent."""

    all = "all"
    accompanied = "accompanied"
    waiting = "waiting"
    not_accompanied = "not_accompanied"
    reorientation = "reorientation"  # a reorientation request waits for a decision (a filter only)


class OrientationRequestStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    denied = "denied"


class Access(StrEnum):
    """How much of a notebook the caller sees: its public card, or the whole notebook."""

    public = "public"
    full = "full"


# --- Wire models -----------------------------------------------------------------------------------------

class BeneficiaryFields(WireModel):
    firstname: Line = Field(max_length=120)
    lastname: Line = Field(max_length=120)
    date_of_birth: BirthDate
    place_of_birth: Line = Field(default="", max_length=120)
    email: Line = Field(default="", max_length=320)
    mobile_number: Line = Field(default="", max_length=40)
    address1: Line = Field(default="", max_length=250)
    address2: Line = Field(default="", max_length=250)
    postal_code: PostalCode = ""
    city: Line = Field(default="", max_length=120)
    # 13 or 15 characters (the key is checked then dropped); stored encrypted.
    nir: Line = Field(default="", max_length=21)
    caf_number: Line = Field(default="", max_length=20)
    pe_number: Line = Field(default="", max_length=20)
    external_id: Line = Field(default="", max_length=100)
    right_rsa: RightRsa | None = None
    right_are: bool = False
    right_ass: bool = False
    right_bonus: bool = False
    rsa_suspension_reason: Line = Field(default="", max_length=60)
    rsa_closure_reason: Line = Field(default="", max_length=60)
    rsa_closure_date: date | None = None
    subject_to_right_and_duty: bool = False
    # How the beneficiary wants to hear of appointments: empty is "by SMS, by email without a mobile".
    # Legal and login messages do not depend on it.
    notification_channels: list[Channel] = Field(default_factory=list, max_length=2)


class BeneficiaryView(BeneficiaryFields, Withholding):
    """``withheld``: the fields this caller does not see (the public card leaves out identifiers and rights)."""

    beneficiary_id: uuid.UUID
    version: int
    # When a message to this number or address could not be delivered: the page asks to check it.
    mobile_failed_at: datetime | None = None
    email_failed_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by_name: str = ""


class PersonRef(WireModel):
    person_id: uuid.UUID
    firstname: str
    lastname: str
    email: str = ""
    phone: str = ""
    structure_name: str = ""


class MemberView(WireModel):
    member_id: uuid.UUID
    person: PersonRef
    member_type: MemberType
    orientation_system_name: str = ""
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: MembershipEndReason | None = None
    last_contact_at: datetime | None = None
    last_appointment_at: datetime | None = None


class StructureLinkView(WireModel):
    structure_id: uuid.UUID
    name: str
    status: str  # current | outdated
    started_at: datetime
    ended_at: datetime | None = None


class SituationView(WireModel):
    situation_id: uuid.UUID
    theme: str
    description: str
    added_at: datetime
    added_by_name: str = ""


class ProjectFields(WireModel):
    rome_code: Line | None = Field(default=None, max_length=200)  # the ROME label; None: "Projet en construction"
    mobility_radius_km: int | None = Field(default=None, ge=0, le=1000)
    hourly_rate_cents: int | None = Field(default=None, gt=0, le=100_000)
    contract_type: JobContractType | None = None
    employment_type: EmploymentType | None = None


class ProjectView(ProjectFields):
    project_id: uuid.UUID
    updated_at: datetime
    updated_by_name: str = ""


class DiagnosticFields(WireModel):
    work_situation: WorkSituation | None = None
    work_situation_date: date | None = None
    work_situation_end_date: date | None = None
    right_rqth: bool = False
    education_level: EducationLevel | None = None
    last_job_ended_at: date | None = None
    situation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=88)
    projects: list[ProjectFields] = Field(default_factory=list, max_length=5)


class DiagnosticView(WireModel):
    work_situation: WorkSituation | None = None
    work_situation_date: date | None = None
    work_situation_end_date: date | None = None
    right_rqth: bool = False
    education_level: EducationLevel | None = None
    last_job_ended_at: date | None = None
    situations: list[SituationView] = Field(default_factory=list)
    projects: list[ProjectView] = Field(default_factory=list)
    version: int = 1
    updated_at: datetime | None = None
    updated_by_name: str = ""


class ActionView(WireModel):
    action_id: uuid.UUID
    action: str
    status: ActionStatus
    starting_at: date
    created_at: datetime
    created_by_name: str = ""
    version: int


class TargetView(WireModel):
    target_id: uuid.UUID
    target: str
    status: TargetStatus
    linked_to: ContractLink
    user_consent: bool
    created_at: datetime
    created_by_name: str = ""
    version: int
    actions: list[ActionView] = Field(default_factory=list)


class FocusView(WireModel):
    focus_id: uuid.UUID
    theme: str
    theme_label: str
    created_at: datetime
    created_by_name: str = ""
    targets: list[TargetView] = Field(default_factory=list)

    @property
    def actions_in_progress(self) -> int:
        return sum(1 for t in self.targets for a in t.actions if a.status == ActionStatus.in_progress)


class AppointmentView(WireModel):
    appointment_id: uuid.UUID
    person: PersonRef
    at: datetime
    status: AppointmentStatus
    version: int


class FieldChange(WireModel):
    """One field of a history entry as it was and as it became (the stored values: codes, ISO dates);
    ``before`` and ``after`` are None for a secret identifier (NIR, CAF, France Travail): only « modifié » shows."""

    field: str
    before: str | None = None
    after: str | None = None


class TimelineEntry(WireModel):
    entry_id: uuid.UUID
    occurred_at: datetime
    kind: str             # beneficiary, member, diagnostic, focus, target, action, appointment, notebook
    summary: str          # in French, for people
    author_id: uuid.UUID | None = None
    author_name: str = ""
    source: ChangeSource = ChangeSource.person
    redacted: bool = False
    changes: list[FieldChange] = Field(default_factory=list)


class VisitView(WireModel):
    """One line of the access log: a person's views of the notebook on one day."""

    person_name: str
    role: str
    structure_name: str = ""
    visited_at: datetime  # the first view of the day
    last_visited_at: datetime | None = None
    views: int = 1


class OrientationChoice(WireModel):
    orientation_system_id: uuid.UUID
    name: str


class OrientationRequestView(WireModel):
    request_id: uuid.UUID
    status: OrientationRequestStatus
    requested_at: datetime
    requested_by_name: str = ""
    requested_orientation_system_name: str = ""
    reason: str = ""
    decided_at: datetime | None = None
    decided_by_name: str = ""
    decided_orientation_system_name: str = ""
    decision_reason: str = ""


class ReferentChoice(WireModel):
    person_id: uuid.UUID
    name: str
    structure_id: uuid.UUID | None = None
    structure_ids: list[uuid.UUID] = Field(default_factory=list)  # every structure they work in (the first above)
    orientation_system_ids: list[uuid.UUID] = Field(default_factory=list)


class StructureChoice(WireModel):
    structure_id: uuid.UUID
    name: str


class OrientationOptions(WireModel):
    """What the orientation form offers: the territory's orientation systems, structures and professionals."""

    orientation_systems: list[OrientationChoice] = Field(default_factory=list)
    structures: list[StructureChoice] = Field(default_factory=list)
    referents: list[ReferentChoice] = Field(default_factory=list)


class FranceTravailStatus(StrEnum):
    """What the last exchange with France Travail's API gave for a notebook."""

    never = "never"              # not asked yet (or the territory does not use the API)
    found = "found"              # the dossier came: it is shown with its date
    no_dossier = "no_dossier"    # France Travail knows no dossier for this NIR and birth date
    no_nir = "no_nir"            # the beneficiary has no NIR: France Travail cannot be asked
    unavailable = "unavailable"  # France Travail did not answer (the last dossier, if any, is still shown)


class FranceTravailItem(WireModel):
    """A situation, an objective or a need of the diagnostic argumenté, with its value as France Travail says
    it (``OUI``, ``EN_COURS``, ``POINT_FORT``…)."""

    code: str = ""
    label: str
    value: str = ""


class FranceTravailConstraint(WireModel):
    """A "contrainte personnelle" and what France Travail noted under it."""

    code: str = ""
    label: str
    value: str = ""  # OUI, CLOTUREE
    noted_on: date | None = None  # France Travail's date of the contrainte
    situations: list[FranceTravailItem] = Field(default_factory=list)
    objectives: list[FranceTravailItem] = Field(default_factory=list)


class FranceTravailJobNeeds(WireModel):
    """A professional project of France Travail's diagnostic: the job and its strengths and needs."""

    job: str
    status: str = ""
    typology: str = ""
    priority: bool = False
    updated_on: date | None = None
    needs: list[FranceTravailItem] = Field(default_factory=list)


class FranceTravailSection(WireModel):
    """France Travail's diagnostic argumenté, kept apart from the professionals' diagnostic: its source and the
    date it was received; the last exchange's status (a failure leaves the last dossier shown)."""

    status: FranceTravailStatus = FranceTravailStatus.never
    source: str = "France Travail (API diagnostic argumenté)"
    received_at: datetime | None = None  # when the dossier shown came from France Travail
    checked_at: datetime | None = None  # the last exchange with France Travail
    updated_on: date | None = None  # France Travail's own date of the diagnostic
    constraints: list[FranceTravailConstraint] = Field(default_factory=list)
    job_needs: list[FranceTravailJobNeeds] = Field(default_factory=list)
    refreshing: bool = False  # older than an hour: a refresh is on its way, the next view shows it


class ContractStatus(StrEnum):
    """A contract's state: a CER goes draft → submitted → validated (or back to draft when returned) → signed,
    then ended or renewed; PPAE, CEJ and PACEA are recorded once signed."""

    draft = "draft"
    submitted = "submitted"
    validated = "validated"
    signed = "signed"
    ended = "ended"
    renewed = "renewed"


class ContractSummary(WireModel):
    """A contract as the notebook lists it; ``active``: signed and today within its dates."""

    contract_id: uuid.UUID
    kind: ContractLink
    status: ContractStatus
    active: bool = False
    start_date: date | None = None
    end_date: date | None = None
    signed_on: date | None = None
    version: int = 1


class BilanSummary(WireModel):
    """A bilan d'accompagnement as the notebook lists it (contracts.bilans has the whole of it)."""

    bilan_id: uuid.UUID
    bilan_date: date
    previous_date: date | None = None
    created_at: datetime
    created_by_name: str = ""


class NotebookPage(RpcReply):
    """Everything the notebook page shows; the sections the caller may not see are left empty."""

    notebook_id: uuid.UUID
    deployment_id: uuid.UUID
    access: Access
    beneficiary: BeneficiaryView
    members: list[MemberView] = Field(default_factory=list)
    structures: list[StructureLinkView] = Field(default_factory=list)
    orientation_system_name: str = ""
    diagnostic: DiagnosticView | None = None
    focuses: list[FocusView] = Field(default_factory=list)
    appointments: list[AppointmentView] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # More history entries than ``timeline`` holds (the latest ones, as many as asked): « Voir plus ».
    timeline_more: bool = False
    # Older past appointments than ``appointments`` holds (all the upcoming ones and the latest past ones, as many
    # as asked): « Voir tous les rendez-vous ».
    appointments_more: bool = False
    visits: list[VisitView] = Field(default_factory=list)
    # What the caller may do here, so that pages offer only what the service will accept.
    allowed: list[str] = Field(default_factory=list)
    # Orientation systems the calling professional holds, offered when joining as référent.
    my_orientation_systems: list[OrientationChoice] = Field(default_factory=list)
    # The last orientation decision, and the reorientation request pending or last decided (full access only).
    orientation_reason: str = ""
    oriented_at: datetime | None = None
    oriented_by_name: str = ""
    orientation_request: OrientationRequestView | None = None
    # The territory's orientation systems, for those who may orient (orientation managers, managers) and for the
    # référent (a reorientation request). Its structures and professionals: GetTerritoryOrientationOptionsV1
    # (GET /api/v1/orientations/options), asked when the orientation form is opened.
    orientation_options: OrientationOptions | None = None
    # France Travail's diagnostic argumenté (full access, territories using France Travail's API).
    france_travail: FranceTravailSection | None = None
    # The date of the CAF/MSA flux that last said the RSA right (its DTCREAFLUX), when one did (rights shown only).
    rsa_flux_date: date | None = None
    # Its contracts (CER and the others), newest first (full access).
    contracts: list[ContractSummary] = Field(default_factory=list)
    # Its bilans d'accompagnement, newest first (members, the territory, the beneficiary).
    bilans: list[BilanSummary] = Field(default_factory=list)
    # The version of the referentials (``Referentials.version``) the page's codes refer to: a client that holds
    # them in this version need not ask for them again ("" from a service that does not say).
    referentials_version: str = ""


class NotebookRow(Withholding):
    """A row of the beneficiaries' list; ``subject_to_right_and_duty`` is withheld where the caller sees the
    public card only (a professional, outside the notebooks she follows)."""

    notebook_id: uuid.UUID
    firstname: str
    lastname: str
    date_of_birth: date
    mobile_number: str = ""
    referent_name: str = ""
    structure_name: str = ""
    orientation_system_name: str = ""
    subject_to_right_and_duty: bool = False
    support: SupportStatus = SupportStatus.not_accompanied
    # Messages of the exchanges between professionals the caller (a member) has not read yet.
    unread_exchanges: int = 0
    # The active chargé d'orientation's name ("" without one).
    orientation_manager_name: str = ""


class NotebooksReply(RpcReply):
    notebooks: list[NotebookRow]
    total: int
    # More than ``total`` match (lists count up to 1,000): the page asks to narrow the search.
    more: bool = False


class NotebookCreatedReply(RpcReply):
    notebook_id: uuid.UUID
    beneficiary_id: uuid.UUID


class VersionReply(RpcReply):
    """The id and new version of what a command created or changed."""

    id: uuid.UUID
    version: int = 1


class RomeCode(WireModel):
    code: str
    label: str


class RomeCodesReply(RpcReply):
    codes: list[RomeCode]


class ReferentialItem(WireModel):
    id: uuid.UUID
    theme: str
    description: str


class Referentials(RpcReply):
    themes: dict[str, str]             # name → French label, in display order
    focus_themes: list[str]            # the themes offered for a work axis
    target_themes: dict[str, list[str]]  # a work axis's theme → the themes its objectives are taken from
    situations: list[ReferentialItem]
    targets: list[ReferentialItem]
    actions: list[ReferentialItem]
    # A digest of the above, also on every notebook page: a client keeps them while the page names this version.
    version: str = ""


class WaitingStructure(WireModel):
    structure_id: uuid.UUID
    name: str
    waiting: int


class WaitingDigestRecipient(WireModel):
    email: str
    firstname: str = ""
    structures: list[WaitingStructure]


class WaitingDigestReply(RpcReply):
    recipients: list[WaitingDigestRecipient]


class DashboardTile(WireModel):
    key: str
    label: str
    count: int


class DashboardReply(RpcReply):
    tiles: list[DashboardTile]


# --- RPCs ------------------------------------------------------------------------------------------------

@register
class CreateBeneficiaryV1(RpcRequest):
    """A manager creates a beneficiary and their notebook (imports arrive through data_import)."""

    subject: ClassVar[str] = "rpc.notebook.create_beneficiary.v1"
    reply_model: ClassVar = NotebookCreatedReply

    deployment_id: uuid.UUID | None = None
    beneficiary: BeneficiaryFields


@register
class UpdateBeneficiaryV1(RpcRequest):
    """Changes identity, contact, rights; each role may change only its fields (spec §1.2)."""

    subject: ClassVar[str] = "rpc.notebook.update_beneficiary.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    version: Version
    beneficiary: BeneficiaryFields


@register
class GetNotebookPageV1(RpcRequest):
    """The notebook page; a professional's view is recorded in the access log. A beneficiary omits the id."""

    subject: ClassVar[str] = "rpc.notebook.get_page.v1"
    reply_model: ClassVar = NotebookPage

    notebook_id: uuid.UUID | None = None
    timeline_kind: Line = Field(default="", max_length=20)
    timeline_author_id: uuid.UUID | None = None
    # The latest history entries only, this many (the service's own limit, 200, when None or above it).
    timeline_limit: int | None = Field(default=None, ge=1, le=200)
    # Every upcoming appointment and this many of the latest past ones only; None: all of them.
    past_appointments_limit: int | None = Field(default=None, ge=0, le=1000)


@register
class SearchNotebooksV1(RpcRequest):
    """The beneficiaries of the caller's territory (or their own, ``mine``), by name, NIR, CAF/FT ids, phone."""

    subject: ClassVar[str] = "rpc.notebook.search.v1"
    reply_model: ClassVar = NotebooksReply

    q: Line = Field(default="", max_length=200)
    support: SupportStatus = SupportStatus.all
    mine: bool = False
    subject_to_right_and_duty: bool = False
    structure_id: uuid.UUID | None = None
    offset: Offset = 0
    limit: int = Field(default=20, ge=1, le=100)


@register
class RecentNotebooksV1(RpcRequest):
    """"Derniers profils consultés" (visited) or "modifiés" (modified) by the calling professional."""

    subject: ClassVar[str] = "rpc.notebook.recent.v1"
    reply_model: ClassVar = NotebooksReply

    kind: Line = Field(default="visited", pattern="^(visited|modified)$")
    limit: int = Field(default=5, ge=1, le=20)


@register
class GetDashboardV1(RpcRequest):
    """The tiles of the caller's home: territory (manager), structure (structure admin), portfolio (CO, pro)."""

    subject: ClassVar[str] = "rpc.notebook.dashboard.v1"
    reply_model: ClassVar = DashboardReply

    structure_id: uuid.UUID | None = None


@register
class JoinNotebookV1(RpcRequest):
    """"Se rattacher": as a member, or as référent holding one of the caller's orientation systems."""

    subject: ClassVar[str] = "rpc.notebook.join.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    as_referent: bool = False
    orientation_system_id: uuid.UUID | None = None


@register
class InviteMemberV1(RpcRequest):
    """"Inviter un accompagnateur": adds another professional of the territory as a member."""

    subject: ClassVar[str] = "rpc.notebook.invite_member.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    person_id: uuid.UUID


class AssignedReply(RpcReply):
    assigned: int


@register
class AssignReferentV1(RpcRequest):
    """"Rattacher" (structure admin, manager, orientation manager): a référent for one or several notebooks."""

    subject: ClassVar[str] = "rpc.notebook.assign_referent.v1"
    reply_model: ClassVar = AssignedReply

    notebook_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    person_id: uuid.UUID
    orientation_system_id: uuid.UUID | None = None
    # "Retirer l'ancien référent du groupe de suivi"; otherwise the former référent stays as a member.
    remove_previous: bool = False


@register
class RequestReorientationV1(RpcRequest):
    """"Demander une réorientation": the active référent recommends another orientation system, with a reason."""

    subject: ClassVar[str] = "rpc.notebook.request_reorientation.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    orientation_system_id: uuid.UUID
    reason: Text = Field(max_length=2000)


@register
class DenyReorientationV1(RpcRequest):
    """"Maintenir l'accompagnement" (orientation manager, manager): the request is closed with a reason."""

    subject: ClassVar[str] = "rpc.notebook.deny_reorientation.v1"
    reply_model: ClassVar = AcceptedReply

    request_id: uuid.UUID
    reason: Text = Field(max_length=2000)


@register
class ChangeOrientationV1(RpcRequest):
    """"Orienter" / "Réorienter" (orientation manager, manager): the orientation system, the structure that
    follows the beneficiary and, optionally, their référent; a pending request is accepted by it."""

    subject: ClassVar[str] = "rpc.notebook.change_orientation.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    orientation_system_id: uuid.UUID
    structure_id: uuid.UUID
    referent_id: uuid.UUID | None = None
    reason: Text = Field(default="", max_length=2000)


@register
class RemoveMemberV1(RpcRequest):
    """A manager, or the admin of a structure following the beneficiary, removes someone from the group."""

    subject: ClassVar[str] = "rpc.notebook.remove_member.v1"
    reply_model: ClassVar = AcceptedReply

    notebook_id: uuid.UUID
    person_id: uuid.UUID


@register
class AssignOrientationManagerV1(RpcRequest):
    """"Assigner un chargé d'orientation" (manager, orientation manager) to one or several notebooks."""

    subject: ClassVar[str] = "rpc.notebook.assign_orientation_manager.v1"
    reply_model: ClassVar = AssignedReply

    notebook_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    person_id: uuid.UUID


@register
class LeaveNotebookV1(RpcRequest):
    """"Se détacher": ends the caller's membership (a référent hands over first)."""

    subject: ClassVar[str] = "rpc.notebook.leave.v1"
    reply_model: ClassVar = AcceptedReply

    notebook_id: uuid.UUID


@register
class UpdateDiagnosticV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.update_diagnostic.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    version: Version
    diagnostic: DiagnosticFields


@register
class SearchRomeCodesV1(RpcRequest):
    """"Rechercher un métier ou un code ROME": every word, in order or not, accents and case ignored."""

    subject: ClassVar[str] = "rpc.notebook.search_rome_codes.v1"
    reply_model: ClassVar = RomeCodesReply

    q: Line = Field(max_length=100)
    limit: int = Field(default=20, ge=1, le=50)


@register
class GetReferentialsV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.referentials.v1"
    reply_model: ClassVar = Referentials


@register
class AddFocusV1(RpcRequest):
    """"Ajouter un axe de travail"."""

    subject: ClassVar[str] = "rpc.notebook.add_focus.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    theme: Line = Field(max_length=60)


@register
class AddTargetV1(RpcRequest):
    """"Ajouter un objectif": a referential target of the axis's theme, or free text."""

    subject: ClassVar[str] = "rpc.notebook.add_target.v1"
    reply_model: ClassVar = VersionReply

    focus_id: uuid.UUID
    target: Line = Field(max_length=300)
    linked_to: ContractLink = ContractLink.no
    user_consent: bool = False


@register
class UpdateTargetV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.update_target.v1"
    reply_model: ClassVar = VersionReply

    target_id: uuid.UUID
    version: Version
    status: TargetStatus
    linked_to: ContractLink
    user_consent: bool = False
    reason: Text = Field(default="", max_length=500)  # why it is closed or abandoned


@register
class AddActionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.add_action.v1"
    reply_model: ClassVar = VersionReply

    target_id: uuid.UUID
    action: Line = Field(max_length=300)
    starting_at: date | None = None
    status: ActionStatus = ActionStatus.in_progress


@register
class UpdateActionV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.update_action.v1"
    reply_model: ClassVar = VersionReply

    action_id: uuid.UUID
    version: Version
    status: ActionStatus
    reason: Text = Field(default="", max_length=500)


@register
class DeleteParcoursItemV1(RpcRequest):
    """Deletes an axis, objective or action (typed by mistake): gone from the history everyone sees."""

    subject: ClassVar[str] = "rpc.notebook.delete_parcours_item.v1"
    reply_model: ClassVar = AcceptedReply

    kind: Line = Field(pattern="^(focus|target|action)$")
    item_id: uuid.UUID


@register
class BookAppointmentV1(RpcRequest):
    """An appointment with a member of the group (the caller by default)."""

    subject: ClassVar[str] = "rpc.notebook.book_appointment.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    person_id: uuid.UUID | None = None
    at: AppointmentTime
    status: AppointmentStatus = AppointmentStatus.planned


@register
class UpdateAppointmentV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.update_appointment.v1"
    reply_model: ClassVar = VersionReply

    appointment_id: uuid.UUID
    version: Version
    at: AppointmentTime
    status: AppointmentStatus


@register
class RedactTimelineEntryV1(RpcRequest):
    """A manager hides a history text that holds sensitive details; the entry stays, marked redacted."""

    subject: ClassVar[str] = "rpc.notebook.redact.v1"
    reply_model: ClassVar = AcceptedReply

    entry_id: uuid.UUID
    reason: Text = Field(min_length=3, max_length=500)


@register
class ListWaitingForReferentV1(RpcRequest):
    """For notify's nightly digest: each structure admin with their structures' beneficiaries waiting for a
    référent. Internal (answered to services on the bus; the gateway exposes no route to it)."""

    subject: ClassVar[str] = "rpc.notebook.waiting_for_referent.v1"
    reply_model: ClassVar = WaitingDigestReply


class FranceTravailRefreshReply(RpcReply):
    """``done``: France Travail answered in time and the page shows it; otherwise the answer is on its way."""

    status: FranceTravailStatus | None = None  # None while France Travail's answer is awaited
    done: bool = True


@register
class RefreshFranceTravailV1(RpcRequest):
    """"Actualiser depuis France Travail": the notebook's diagnostic argumenté asked again now (members and
    managers). France Travail not answering is ``unavailable`` (503) with a French message."""

    subject: ClassVar[str] = "rpc.notebook.refresh_france_travail.v1"
    reply_model: ClassVar = FranceTravailRefreshReply

    notebook_id: uuid.UUID


class DemoBeneficiary(WireModel):
    notebook_id: uuid.UUID
    beneficiary_id: uuid.UUID
    beneficiary: BeneficiaryFields


class DemoPopulation(WireModel):
    """Dev only: ``size`` beneficiaries made up from ``seed`` (the same every run), followed by the structures of
    the professionals ``referent_ids`` (already known to the notebook's read model, or waited for), with a history
    spread over the ``months`` before today."""

    size: int = Field(default=300, ge=0, le=5000)
    seed: int = 93
    months: int = Field(default=18, ge=1, le=60)
    referent_ids: list[uuid.UUID] = Field(default_factory=list)
    # Given to one of them followed with a CER running (référent, plan, an appointment to come, exchanges), so that
    # a demo beneficiary account logs in to a lived-in notebook (its event links the account of that email).
    login_email: Line | None = Field(default=None, max_length=320)


@register
class SeedDemoNotebooksV1(RpcRequest):
    """Dev only: the beneficiaries of the demo territory, with fixed ids."""

    subject: ClassVar[str] = "rpc.notebook.seed_demo.v1"
    reply_model: ClassVar = AcceptedReply

    deployment_id: uuid.UUID
    beneficiaries: list[DemoBeneficiary]
    # A lived-in territory beside them (``make run``): beneficiaries made up at every stage of their parcours.
    population: DemoPopulation | None = None


# --- Events ----------------------------------------------------------------------------------------------

class NotebookEvent(IntegrationEvent):
    notebook_id: uuid.UUID
    deployment_id: uuid.UUID
    beneficiary_id: uuid.UUID


@register
class NotebookCreatedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.notebook.created.v1"


@register
class MemberAddedV1(NotebookEvent):
    """A professional joined or was invited; ``invited_by`` is set when someone else added them."""

    subject: ClassVar[str] = "notebook.member.added.v1"

    person_id: uuid.UUID
    member_type: MemberType
    invited_by_name: str = ""
    invited_by_id: uuid.UUID | None = None
    # Who to tell (notify keeps no directory of its own).
    person_email: str = ""
    person_firstname: str = ""


@register
class MemberEndedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.member.ended.v1"

    person_id: uuid.UUID
    member_type: MemberType
    reason: MembershipEndReason


@register
class ReferentChangedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.referent.changed.v1"

    referent_id: uuid.UUID
    referent_name: str = ""
    previous_referent_id: uuid.UUID | None = None
    previous_referent_email: str = ""
    previous_referent_firstname: str = ""
    orientation_system_id: uuid.UUID | None = None


@register
class ReorientationRequestedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.reorientation.requested.v1"

    request_id: uuid.UUID
    requested_by_id: uuid.UUID
    orientation_system_id: uuid.UUID


@register
class ReorientationDeniedV1(NotebookEvent):
    """The requester is told ("Maintien de l'accompagnement")."""

    subject: ClassVar[str] = "notebook.reorientation.denied.v1"

    request_id: uuid.UUID
    requested_by_email: str = ""
    requested_by_firstname: str = ""


@register
class OrientationChangedV1(NotebookEvent):
    """Oriented for the first time, or reoriented; the new référent (if one was chosen) is told."""

    subject: ClassVar[str] = "notebook.orientation.changed.v1"

    reorientation: bool
    orientation_system_id: uuid.UUID
    orientation_system_name: str = ""
    structure_id: uuid.UUID
    structure_name: str = ""
    referent_id: uuid.UUID | None = None
    referent_email: str = ""
    referent_firstname: str = ""
    request_id: uuid.UUID | None = None  # the request it accepted
    decision_id: uuid.UUID | None = None  # the bulk decision it belongs to (its référent is told once, by it)


@register
class AppointmentBookedV1(NotebookEvent):
    subject: ClassVar[str] = "notebook.appointment.booked.v1"

    appointment_id: uuid.UUID
    person_id: uuid.UUID
    at: datetime
    with_name: str = ""
    structure_name: str = ""
    # The beneficiary, told on the channels they chose (by default SMS, or email without a mobile).
    beneficiary_phone: str = ""
    beneficiary_email: str = ""
    beneficiary_channels: list[Channel] = Field(default_factory=list)


@register
class BeneficiaryContactChangedV1(NotebookEvent):
    """The beneficiary's mobile, email or chosen channels changed: reminders already planned follow them."""

    subject: ClassVar[str] = "notebook.beneficiary.contact_changed.v1"

    phone: str = ""
    email: str = ""
    channels: list[Channel] = Field(default_factory=list)


@register
class AppointmentChangedV1(NotebookEvent):
    """Moved, or its status set (present, absent, excused, cancelled): reminders follow it."""

    subject: ClassVar[str] = "notebook.appointment.changed.v1"

    appointment_id: uuid.UUID
    at: datetime
    status: AppointmentStatus


# --- Contracts (CER, PPAE, CEJ, PACEA) ---------------------------------------------------------------------

class ContractAction(WireModel):
    action: str
    status: str = ""


class ContractObjective(WireModel):
    """An objective of the parcours as the contract took it (its work axis and actions)."""

    target_id: uuid.UUID | None = None
    theme_label: str = ""
    target: str
    actions: list[ContractAction] = Field(default_factory=list)


class ContractContent(WireModel):
    """What the notebook already held when the draft was made (never typed again) and what the référent and the
    beneficiary write together."""

    firstname: str = ""
    lastname: str = ""
    date_of_birth: date | None = None
    address: str = ""
    phone: str = ""
    email: str = ""
    right_rsa: str = ""
    work_situation: str = ""
    situations: list[str] = Field(default_factory=list)
    education_level: str = ""
    projects: list[str] = Field(default_factory=list)
    objectives: list[ContractObjective] = Field(default_factory=list)
    beneficiary_commitments: str = ""
    referent_commitments: str = ""


class ContractVersionView(WireModel):
    version: int
    created_at: datetime
    author_name: str = ""
    summary: str = ""
    changed: list[str] = Field(default_factory=list)


class ContractView(RpcReply):
    contract_id: uuid.UUID
    notebook_id: uuid.UUID
    beneficiary_name: str = ""  # « Prénom Nom », for the page's breadcrumbs
    kind: ContractLink
    status: ContractStatus
    active: bool = False
    version: int
    territory_name: str = ""
    start_date: date | None = None
    end_date: date | None = None
    content: ContractContent
    created_at: datetime
    created_by_name: str = ""
    submitted_at: datetime | None = None
    decided_on: date | None = None
    decided_by_name: str = ""
    decision_comment: str = ""
    return_reason: str = ""
    signed_on: date | None = None
    signed_in_person: bool = False
    signature_recorded_by_name: str = ""
    ended_on: date | None = None
    end_reason: str = ""
    renewed_from_id: uuid.UUID | None = None
    versions: list[ContractVersionView] = Field(default_factory=list)
    # What the caller may do on it now, so that pages offer only what the service will accept.
    allowed: list[str] = Field(default_factory=list)


class ContractsReply(RpcReply):
    notebook_id: uuid.UUID
    beneficiary_name: str = ""  # « Prénom Nom », for the page's breadcrumbs
    contracts: list[ContractSummary] = Field(default_factory=list)
    allowed: list[str] = Field(default_factory=list)


class ContractToValidate(WireModel):
    contract_id: uuid.UUID
    notebook_id: uuid.UUID
    beneficiary_name: str
    submitted_at: datetime | None = None
    created_by_name: str = ""


class ContractsToValidateReply(RpcReply):
    contracts: list[ContractToValidate] = Field(default_factory=list)


class ContractPdfReply(RpcReply):
    filename: str
    pdf_base64: str  # a few kilobytes: it travels in the reply


class ContractEnding(WireModel):
    contract_id: uuid.UUID
    notebook_id: uuid.UUID
    end_date: date
    referent_email: str = ""
    referent_firstname: str = ""


class ContractsEndingReply(RpcReply):
    contracts: list[ContractEnding] = Field(default_factory=list)


@register
class ListContractsV1(RpcRequest):
    """The notebook's contracts (members, territory managers, the beneficiary omitting the id)."""

    subject: ClassVar[str] = "rpc.notebook.list_contracts.v1"
    reply_model: ClassVar = ContractsReply

    notebook_id: uuid.UUID | None = None


@register
class GetContractV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_contract.v1"
    reply_model: ClassVar = ContractView

    contract_id: uuid.UUID


@register
class CreateContractDraftV1(RpcRequest):
    """A CER draft pre-filled from the notebook; ``renewed_from`` starts it from a previous CER ("Renouveler")."""

    subject: ClassVar[str] = "rpc.notebook.create_contract_draft.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    renewed_from: uuid.UUID | None = None


@register
class UpdateContractV1(RpcRequest):
    """The référent and the beneficiary edit a draft together: each save is a version (409 on a stale one)."""

    subject: ClassVar[str] = "rpc.notebook.update_contract.v1"
    reply_model: ClassVar = VersionReply

    contract_id: uuid.UUID
    version: Version
    start_date: date | None = None
    end_date: date | None = None
    beneficiary_commitments: Text = Field(default="", max_length=5000)
    referent_commitments: Text = Field(default="", max_length=5000)


@register
class SubmitContractV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.submit_contract.v1"
    reply_model: ClassVar = VersionReply

    contract_id: uuid.UUID
    version: Version


@register
class DecideContractV1(RpcRequest):
    """Validated, or returned to draft with a reason, by someone of the territory who may validate."""

    subject: ClassVar[str] = "rpc.notebook.decide_contract.v1"
    reply_model: ClassVar = VersionReply

    contract_id: uuid.UUID
    version: Version
    validated: bool  # False: returned to draft
    decided_on: date | None = None  # today when not given
    comment: Text = Field(default="", max_length=2000)  # the reason, when returned


@register
class SignContractV1(RpcRequest):
    """Signed online by the beneficiary, or "signé en présence" recorded by a member with its date."""

    subject: ClassVar[str] = "rpc.notebook.sign_contract.v1"
    reply_model: ClassVar = VersionReply

    contract_id: uuid.UUID
    version: Version
    signed_on: date | None = None  # in person: the day it was signed


@register
class EndContractV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.end_contract.v1"
    reply_model: ClassVar = VersionReply

    contract_id: uuid.UUID
    version: Version
    ended_on: date | None = None
    reason: Text = Field(default="", max_length=2000)


@register
class RecordContractV1(RpcRequest):
    """A PPAE, CEJ or PACEA signed elsewhere: its dates, with the objectives linked to it."""

    subject: ClassVar[str] = "rpc.notebook.record_contract.v1"
    reply_model: ClassVar = VersionReply

    notebook_id: uuid.UUID
    kind: ContractLink
    signed_on: date
    start_date: date
    end_date: date | None = None  # None: "durée indéterminée"


@register
class GetContractPdfV1(RpcRequest):
    subject: ClassVar[str] = "rpc.notebook.get_contract_pdf.v1"
    reply_model: ClassVar = ContractPdfReply

    contract_id: uuid.UUID


@register
class ListContractsToValidateV1(RpcRequest):
    """The CER submitted in the caller's territory (those who may validate)."""

    subject: ClassVar[str] = "rpc.notebook.list_contracts_to_validate.v1"
    reply_model: ClassVar = ContractsToValidateReply


@register
class ListContractsEndingV1(RpcRequest):
    """For notify's reminder: the signed CER ending between ``from_date`` and ``until`` with their référent.
    Internal (answered to services on the bus; the gateway exposes no route to it)."""

    subject: ClassVar[str] = "rpc.notebook.list_contracts_ending.v1"
    reply_model: ClassVar = ContractsEndingReply

    from_date: date
    until: date


class ContractEvent(NotebookEvent):
    """A CER's step; who is told is carried along (notify keeps no directory of its own)."""

    contract_id: uuid.UUID
    kind: ContractLink = ContractLink.cer
    referent_email: str = ""
    referent_firstname: str = ""
    beneficiary_email: str = ""
    beneficiary_firstname: str = ""


@register
class ContractCreatedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.created.v1"


@register
class ContractSubmittedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.submitted.v1"

    # The territory's people who may validate it.
    validator_emails: list[str] = Field(default_factory=list)


@register
class ContractValidatedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.validated.v1"

    decided_on: date


@register
class ContractReturnedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.returned.v1"


@register
class ContractSignedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.signed.v1"

    signed_on: date
    in_person: bool = False
    start_date: date | None = None
    end_date: date | None = None


@register
class ContractEndedV1(ContractEvent):
    subject: ClassVar[str] = "notebook.contract.ended.v1"

    ended_on: date
    renewed: bool = False


# What notify tells at each of a contract's steps.
CONTRACT_EVENTS: tuple[type[ContractEvent], ...] = (ContractCreatedV1, ContractSubmittedV1, ContractValidatedV1,
                                                    ContractReturnedV1, ContractSignedV1, ContractEndedV1)
