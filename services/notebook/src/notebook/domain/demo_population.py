"""A lived-in demo territory (``make run``, dev mode only): beneficiaries made up at every stage of their parcours,
as rows of the notebook's tables, so that every list, tile and chart of the demo shows something real.

Pure: the same seed, team and day give the same people and the same stages (ids derive from the seed, dates from
``now``), so a second seed finds them and adds nothing. Stages, roughly: one in twelve not followed yet (often just
arrived with a flux), one in seven oriented to a structure and waiting for a référent, the others followed by a
référent with a diagnostic and a plan, appointments past and to come, a CER at any step (running, ending within
30 days, ended), some with a reorientation request or a thread between professionals; created over the last
``months``; a share imported from a file or from the CAF/MSA or France Travail flux.
"""
from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from servicekit.contact import search_key

PARIS = ZoneInfo("Europe/Paris")
NAMESPACE = uuid.UUID("93000000-0000-4000-8000-0000000f0000")  # ids of the population: uuid5(NAMESPACE, ...)

FIRSTNAMES = (
    "Amina", "Karim", "Julie", "Mamadou", "Nathalie", "Yacine", "Chantal", "Kevin", "Fatou", "Thomas", "Inès",
    "Moussa", "Sandrine", "Rayan", "Aïcha", "Laurent", "Samia", "Jérémy", "Awa", "Christophe", "Leïla", "Dylan",
    "Mariama", "Sébastien", "Naïma", "Hugo", "Khadija", "Franck", "Océane", "Ibrahim", "Valérie", "Bilal",
    "Aurélie", "Ousmane", "Émilie", "Mehdi", "Coralie", "Souleymane", "Hélène", "Nordine", "Priya", "Wei",
    "Ana", "Dragan", "Svetlana", "Jean-Baptiste", "Marie-Claire", "Noé", "Zoé", "Mohamed", "Lucie", "Adama",
)
LASTNAMES = (
    "Martin", "Bernard", "Diallo", "Traoré", "Petit", "Benali", "Nguyen", "Moreau", "Haddad", "Lefèvre", "Cissé",
    "Girard", "Boukhris", "Fontaine", "Koné", "Rousseau", "Mendy", "Lambert", "Belkacem", "Faure", "Sylla",
    "Chevallier", "Ait Ahmed", "Garnier", "Diop", "Roussel", "Mekki", "Blanc", "Camara", "Guérin", "Ferreira",
    "Bonnet", "Sow", "Dupont", "Ouattara", "Leroy", "Da Silva", "Marchand", "Kaba", "Perrin", "Ben Youssef",
    "Morel", "Touré", "Fournier", "Zhang", "Popescu", "Le Goff", "N'Diaye", "Carpentier", "Hamidi",
)
CITIES = (("93190", "Livry-Gargan"), ("93200", "Saint-Denis"), ("93140", "Bondy"), ("93100", "Montreuil"),
          ("93300", "Aubervilliers"), ("93500", "Pantin"), ("93000", "Bobigny"), ("93270", "Sevran"),
          ("93600", "Aulnay-sous-Bois"), ("93130", "Noisy-le-Sec"))
STREETS = ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "allée des Tilleuls", "boulevard Gambetta",
           "rue Pasteur", "rue des Écoles", "avenue de la Résistance", "rue Jules Ferry", "place de la Mairie")
RSA_RIGHTS = (("rsa_droit_ouvert_versable", 60), ("rsa_droit_ouvert_et_suspendu", 6),
              ("rsa_droit_ouvert_versement_suspendu", 6), ("rsa_demande_en_attente", 8), ("rsa_refuse", 3),
              ("rsa_clos", 5), ("rsa_clos_anterieur", 2), (None, 10))
WORK_SITUATIONS = ("recherche_emploi", "recherche_formation", "construction_projet", "formation", "iae", "interim",
                   "cdd_temps_partiel", "emploi", "maladie", "au_foyer", "recherche_alternance", "autre")
EDUCATION_LEVELS = ("AFS", "C12", "C3A", "CFG", "CP4", "NV5", "NV4", "NV3", "NV2", "NV1")
FOCUS_THEMES = ("emploi", "logement", "formation", "mobilite", "sante", "difficulte_financiere",
                "difficulte_administrative", "contraintes_familiales", "maitrise_langue", "numerique")
TARGET_THEMES = {"emploi": ("choisir_un_metier", "preparer_sa_candidature", "trouver_un_emploi"),
                 "formation": ("se_former",)}
ACTION_STATUSES = (("in_progress", 30), ("planned", 20), ("done", 30), ("standby", 8), ("abandoned", 6),
                   ("canceled", 6))
TARGET_STATUSES = (("in_progress", 65), ("done", 25), ("abandoned", 10))
PAST_APPOINTMENTS = (("present", 70), ("absent", 12), ("excused", 10), ("cancelled", 8))
APPOINTMENT_LABELS = {"planned": "prévu", "present": "présent", "absent": "absent", "excused": "excusé",
                      "cancelled": "annulé"}
# As the history and the bilans word them (handlers.parcours).
ACTION_LABELS = {"planned": "en projet", "in_progress": "en cours", "standby": "en attente", "done": "réalisée",
                 "abandoned": "abandonnée par le bénéficiaire", "canceled": "annulée par la structure"}
TARGET_LABELS = {"in_progress": "en cours", "done": "réalisé", "abandoned": "abandonné"}
ASSESSMENTS = ("Démarches engagées avec régularité ; la recherche d'emploi avance.",
               "Le logement reste la priorité : dossier déposé, en attente de réponse.",
               "Bonne implication, plusieurs rendez-vous manqués au début de l'accompagnement.")
CONTRACT_STATES = (("none", 24), ("draft", 8), ("submitted", 5), ("validated", 4), ("running", 32), ("ending", 12),
                   ("ended", 15))
ORIGINS = (("manual", 55), ("import", 20), ("cafmsa", 15), ("france_travail", 10))
MESSAGES = ("Bonjour, je reçois {name} la semaine prochaine pour faire le point sur sa recherche.",
            "Le dossier de logement est déposé, en attente de la commission.",
            "Pouvez-vous me transmettre l'attestation de formation ?",
            "{name} a commencé son stage lundi, premiers retours très positifs.",
            "Rendez-vous manqué hier, je propose une nouvelle date.",
            "La demande d'aide à la mobilité est acceptée.")
ENDINGS = ("Sortie vers l'emploi (CDD de 6 mois)", "Fin du contrat à son terme", "Entrée en formation qualifiante")


@dataclass(frozen=True)
class Referent:
    """A professional of the team: who follows, from which structure, named as the history names people."""

    person_id: uuid.UUID
    structure_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class System:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Referentials:
    """What the parcours is made of: the referentials' situations, objectives and actions by theme."""

    theme_labels: dict[str, str]
    situations: list[uuid.UUID]
    targets: dict[str, list[str]]
    actions: dict[str, list[str]]
    projects: list[str]


@dataclass(frozen=True)
class Team:
    deployment_id: uuid.UUID
    referents: list[Referent]
    structure_names: dict[uuid.UUID, str]
    systems: list[System]
    manager_name: str = ""
    orientation_manager_name: str = ""


@dataclass
class Made:
    """The population as rows per table (every one with its id), and who was made (for their events)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    beneficiaries: list[dict[str, Any]] = field(default_factory=list)
    notebooks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, **row: Any) -> dict[str, Any]:
        self.rows.setdefault(table, []).append(row)
        return row


def first_ids(seed: int) -> tuple[uuid.UUID, uuid.UUID]:
    """The first beneficiary's and notebook's ids: already there, the population was seeded."""
    return made_id(seed, "beneficiary", 0), made_id(seed, "notebook", 0)


def made_id(seed: int, kind: str, *parts: Any) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in (seed, kind, *parts)))


def weighted(rng: random.Random, choices) -> Any:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def at_work_hours(rng: random.Random, day: date) -> datetime:
    """A time of an office day in Paris, as a timezone-aware instant."""
    return datetime.combine(day, time(rng.choice((9, 10, 11, 14, 15, 16)), rng.choice((0, 15, 30, 45))),
                            PARIS)


CORE = (time(9), time(17))  # office times left as they are; the hour on each side takes in the evening and night
BAND = timedelta(minutes=59)


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def office_moment(moment: datetime, now: datetime) -> datetime:
    """``moment`` moved into office hours, Paris time (8h–18h, Monday to Friday), as a walk of the demo expects of a
    history written by people at work. Deterministic and strictly increasing, so every order between the rows holds
    (a notebook created before its history, an appointment before its outcome); 9h–17h on a weekday is kept as it
    is (the appointments' times, which their history's sentences quote). An evening is squeezed into 17h–18h of its
    day, a night or a weekend into 8h–9h of the next office day; the gap ``now`` stands in, into 17h–18h before it
    (nothing ends up after now)."""
    local = moment.astimezone(PARIS)
    if local.weekday() < 5 and CORE[0] <= local.time() < CORE[1]:
        return moment
    before = local.date()
    if local.weekday() >= 5 or local.time() < CORE[1]:  # a morning or a weekend: the gap began the office day before
        before -= timedelta(days=1)
        while before.weekday() >= 5:
            before -= timedelta(days=1)
    evening = datetime.combine(before, CORE[1], PARIS).astimezone(UTC)
    midnight = datetime.combine(before + timedelta(days=1), time(0), PARIS).astimezone(UTC)
    after = next_weekday(before)
    morning = datetime.combine(after, CORE[0], PARIS).astimezone(UTC)
    at = moment.astimezone(UTC)
    if evening <= now < morning and at <= now:
        moved = evening + min(BAND, now - evening) * ((at - evening) / max(now - evening, timedelta(seconds=1)))
    elif at < midnight:
        moved = evening + BAND * ((at - evening) / (midnight - evening))
    else:
        opening = datetime.combine(after, time(8), PARIS).astimezone(UTC)
        moved = opening + BAND * ((at - midnight) / (morning - midnight))
    return moved.astimezone(moment.tzinfo)


def in_office_hours(made: Made, now: datetime) -> None:
    """Every time of the rows made moved into office hours (``office_moment``), in place. An appointment drawn on a
    weekend moves too, to the minute, and the history's sentences quoting its time say the new one."""
    quoted: dict[uuid.UUID, tuple[str, str]] = {}
    for row in made.rows.get("appointment", []):
        moved = office_moment(row["at"], now).replace(second=0, microsecond=0)
        if moved != row["at"]:
            quoted[row["id"]] = (f"Rendez-vous du {row['at'].astimezone(PARIS):%d/%m/%Y à %H:%M}",
                                 f"Rendez-vous du {moved.astimezone(PARIS):%d/%m/%Y à %H:%M}")
            row["at"] = moved
    for table, rows in made.rows.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, datetime) and not (table == "appointment" and column == "at"):
                    row[column] = office_moment(value, now)
            if table == "timeline_event" and row["subject_id"] in quoted:
                row["summary"] = row["summary"].replace(*quoted[row["subject_id"]])


def make_population(*, seed: int, size: int, months: int, now: datetime, team: Team, refs: Referentials,
                    encrypt: Callable[[str], str], index: Callable[[str, str], str | None],
                    login_email: str | None = None) -> Made:
    if not team.referents or not team.systems:
        raise ValueError("A population needs professionals and orientation systems.")
    rng = random.Random(seed)
    made, taken = Made(), set()
    for n in range(size):
        Story(made, rng, seed, n, now, months, team, refs, encrypt, index, taken).make()
    in_office_hours(made, now)
    if login_email and made.beneficiaries:
        give_login(made, now.astimezone(PARIS).date(), login_email)
    return made


def give_login(made: Made, today: date, email: str) -> None:
    """``email`` to the beneficiary whose notebook shows the most to herself, the first such: followed by a référent
    with a CER running (not ending within 30 days), then an appointment to come, exchanges, one of them shared with
    her, a bilan. Chosen among the stories as they came out, so the others stay as they are; only the last message
    of her thread is shared with her if none was (she reads only those)."""
    rows = made.rows

    def notebooks(table: str, keep: Callable[[dict[str, Any]], bool]) -> set[uuid.UUID]:
        return {row["notebook_id"] for row in rows.get(table, []) if keep(row)}

    followed = notebooks("member", lambda r: r["member_type"] == "referent" and r["ended_at"] is None)
    running = notebooks("contract", lambda r: r["status"] == "signed" and r["end_date"] > today + timedelta(days=30))
    wanted = [followed & running, notebooks("appointment", lambda r: r["status"] == "planned"),
              notebooks("exchange_message", lambda r: True),
              notebooks("exchange_message", lambda r: r["shared_with_beneficiary"]), notebooks("bilan", lambda r: True)]
    best = max(range(len(made.notebooks)),
               key=lambda n: ([made.notebooks[n]["id"] in ids for ids in wanted], -n))
    made.beneficiaries[best]["email"] = email
    thread = [m for m in rows.get("exchange_message", []) if m["notebook_id"] == made.notebooks[best]["id"]]
    if thread and not any(m["shared_with_beneficiary"] for m in thread):
        thread[-1]["shared_with_beneficiary"] = True


class Story:
    """One beneficiary's story: their notebook at a stage drawn from ``rng``; its rows go to ``made``."""

    def __init__(self, made: Made, rng: random.Random, seed: int, n: int, now: datetime, months: int, team: Team,
                 refs: Referentials, encrypt, index, taken: set) -> None:
        self.made, self.rng, self.seed, self.n, self.now, self.team, self.refs = made, rng, seed, n, now, team, refs
        self.encrypt, self.index, self.taken = encrypt, index, taken
        self.today = now.astimezone(PARIS).date()
        self.created_at = now - timedelta(days=rng.randint(2, months * 30), minutes=rng.randint(0, 600))
        self.notebook_id = made_id(seed, "notebook", n)
        self.beneficiary_id = made_id(seed, "beneficiary", n)
        self.serial = 0
        self.theme_of: dict[uuid.UUID, str] = {}
        self.actions_of: dict[uuid.UUID, list[dict[str, Any]]] = {}

    def id(self, kind: str) -> uuid.UUID:
        self.serial += 1
        return made_id(self.seed, kind, self.n, self.serial)

    def later(self, after: datetime, low: int, high: int) -> datetime:
        """A moment ``low`` to ``high`` days after ``after``, never after now, and never before ``after``: the last
        hour before now is drawn as a limit, and when ``after`` is within it already the moment falls half way to now
        instead (a colleague who joined « after » a référent who came 20 minutes ago was dated 50 minutes ago, and
        the référent wrote in the thread before he took the notebook). The same draws either way, so the same
        people and stages come out of a seed."""
        moment = after + timedelta(days=self.rng.randint(low, high), minutes=self.rng.randint(5, 480))
        limit = self.now - timedelta(minutes=self.rng.randint(1, 60))
        return min(moment, limit if limit > after else after + (self.now - after) / 2)

    def history(self, at: datetime, kind: str, summary: str, author: str, *, source: str = "person",
                subject_id: uuid.UUID | None = None, author_id: uuid.UUID | None = None) -> None:
        self.made.add("timeline_event", id=self.id("timeline"), notebook_id=self.notebook_id, occurred_at=at,
                      kind=kind, summary=summary, changes={}, subject_id=subject_id, author_id=author_id,
                      author_name=author, source=source, hidden=False, redacted_at=None, redacted_by_name="",
                      redaction_reason="")

    # --- the stages ---------------------------------------------------------------------------------------------

    def make(self) -> None:
        rng = self.rng
        origin = weighted(rng, ORIGINS)
        stage = rng.random()
        beneficiary = self.beneficiary(origin)
        self.last_change = self.created_at
        self.notebook = self.made.add(
            "notebook", id=self.notebook_id, beneficiary_id=self.beneficiary_id, deployment_id=self.team.deployment_id,
            work_situation=None, work_situation_date=None, work_situation_end_date=None, right_rqth=False,
            education_level=None, last_job_ended_at=None, diagnostic_version=1, diagnostic_updated_at=None,
            diagnostic_updated_by_name="", orientation_system_id=None, orientation_reason="", oriented_at=None,
            oriented_by_name="", created_at=self.created_at, updated_at=self.created_at)
        self.made.notebooks.append(self.notebook)
        self.created(origin, beneficiary)
        if stage >= 0.08:  # oriented to a structure
            referent = rng.choice(self.team.referents)
            system = rng.choice(self.team.systems)
            oriented_at = self.orient(referent, system)
            if stage >= 0.22:  # and followed by a référent
                self.follow(referent, system, oriented_at)
        self.notebook["updated_at"] = self.last_change

    def touch(self, at: datetime) -> None:
        self.last_change = max(self.last_change, min(at, self.now))

    def beneficiary(self, origin: str) -> dict[str, Any]:
        rng = self.rng
        while True:
            firstname, lastname = rng.choice(FIRSTNAMES), rng.choice(LASTNAMES)
            born = date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28))
            key = f"{search_key(lastname)}|{search_key(firstname)}|{born}"
            if key not in self.taken:
                self.taken.add(key)
                break
        postal_code, city = rng.choice(CITIES)
        phone = f"+3361{self.seed % 100:02d}{self.n:05d}" if rng.random() < 0.6 else ""
        right_rsa = weighted(rng, RSA_RIGHTS)
        opened = right_rsa in ("rsa_droit_ouvert_versable", "rsa_droit_ouvert_et_suspendu",
                               "rsa_droit_ouvert_versement_suspendu")
        caf_number = f"{2000000 + self.n * 7919 % 7000000:07d}" if right_rsa or origin == "cafmsa" else ""
        pe_number = f"{3000000 + self.n * 104729 % 6000000:07d}{'ABCDEFGHJK'[self.n % 10]}" \
            if origin == "france_travail" or rng.random() < 0.4 else ""
        closed = right_rsa in ("rsa_clos", "rsa_clos_anterieur")
        row = self.made.add(
            "beneficiary", id=self.beneficiary_id, deployment_id=self.team.deployment_id, firstname=firstname,
            lastname=lastname, date_of_birth=born, place_of_birth="", email="", mobile_number=phone,
            address1=f"{rng.randint(1, 180)} {rng.choice(STREETS)}", address2="", postal_code=postal_code, city=city,
            nir_encrypted="", nir_index=None,
            caf_number_encrypted=self.encrypt(caf_number), caf_number_index=self.index("caf", caf_number),
            pe_number_encrypted=self.encrypt(pe_number), pe_number_index=self.index("pe", pe_number),
            pe_unique_import_id=None, external_id=f"SI-{self.n + 1:05d}" if origin == "import" else "",
            right_rsa=right_rsa, right_are=rng.random() < 0.15, right_ass=rng.random() < 0.08,
            right_bonus=rng.random() < 0.2, rsa_suspension_reason="", rsa_closure_reason="",
            rsa_closure_date=(self.today - timedelta(days=rng.randint(10, 200))) if closed else None,
            subject_to_right_and_duty=opened and rng.random() < 0.85, is_homeless=rng.random() < 0.03,
            notification_channels=[], mobile_failed_at=None, email_failed_at=None,
            search_text=search_key(" ".join((firstname, lastname, *phone_forms(phone)))),
            identity_key=key, version=1, created_at=self.created_at, updated_at=None, updated_by_name="")
        self.made.beneficiaries.append(row)
        return row

    def created(self, origin: str, beneficiary: dict[str, Any]) -> None:
        source, author = {"manual": ("person", self.team.manager_name),
                          "import": ("import", self.team.manager_name),
                          "cafmsa": ("import", self.team.manager_name),
                          "france_travail": ("france_travail", "France Travail")}[origin]
        self.history(self.created_at, "notebook", "Carnet créé", author, source=source)
        if origin in ("cafmsa", "france_travail"):
            data = {"source": {"nom": beneficiary["lastname"], "prenom": beneficiary["firstname"],
                               "date_naissance": beneficiary["date_of_birth"].isoformat(),
                               "code_postal": beneficiary["postal_code"]}}
            raw = json.dumps(data, ensure_ascii=False, sort_keys=True)
            self.made.add("external_data", id=self.id("external"), beneficiary_id=self.beneficiary_id,
                          source=origin, data_encrypted=self.encrypt(raw),
                          sha256=uuid.uuid5(NAMESPACE, raw).hex * 2, received_on=self.created_at.date(),
                          created_at=self.created_at)

    def orient(self, referent: Referent, system: System) -> datetime:
        at = self.later(self.created_at, 1, 40)
        structure_name = self.team.structure_names.get(referent.structure_id, "")
        author = self.team.orientation_manager_name or self.team.manager_name
        self.notebook.update(orientation_system_id=system.id, oriented_at=at, oriented_by_name=author,
                             orientation_reason=self.rng.choice(("Commission d'orientation", "Premier rendez-vous",
                                                                 "Diagnostic partagé avec la CAF", "")))
        self.made.add("beneficiary_structure", id=self.id("structure"), notebook_id=self.notebook_id,
                      structure_id=referent.structure_id, status="current", started_at=at, ended_at=None)
        self.history(at, "orientation", f"Orientation : {system.name}, suivi par {structure_name}", author)
        self.touch(at)
        return at

    def follow(self, referent: Referent, system: System, oriented_at: datetime) -> None:
        rng = self.rng
        started = self.later(oriented_at, 0, 25)
        others = [r for r in self.team.referents if r.person_id != referent.person_id]
        if others and rng.random() < 0.1:  # a former référent handed over
            former = rng.choice(others)
            handed_over = self.later(started, 20, 120)
            self.member(former, "referent", started, system, ended=handed_over, reason="replaced")
            started = handed_over
        self.member(referent, "referent", started, system)
        self.touch(started)
        colleague = rng.choice(others) if others and rng.random() < 0.3 else None
        joined = self.later(started, 5, 90) if colleague else None
        if colleague:
            self.member(colleague, "no_referent", joined, None)
        diagnosed = self.diagnostic(referent, started)
        targets = self.plan(referent, diagnosed)
        self.appointments(referent, started)
        self.bilan(referent, started, targets)
        self.contract(referent, started, targets)
        self.reorientation(referent, started)
        if colleague:
            self.exchanges(referent, colleague, joined)

    def member(self, referent: Referent, member_type: str, at: datetime, system: System | None, *,
               ended: datetime | None = None, reason: str | None = None) -> None:
        self.made.add("member", id=self.id("member"), notebook_id=self.notebook_id, person_id=referent.person_id,
                      member_type=member_type, orientation_system_id=system.id if system else None, started_at=at,
                      ended_at=ended, end_reason=reason, last_contact_at=None,
                      last_visited_at=self.later(at, 0, 200), last_modified_at=self.later(at, 0, 200),
                      created_by=referent.person_id)
        if member_type == "referent":
            self.history(at, "member", f"{referent.name} devient référent ({system.name})", referent.name,
                         subject_id=referent.person_id, author_id=referent.person_id)
        else:
            self.history(at, "member", f"{referent.name} rejoint le groupe de suivi (membre)", referent.name,
                         subject_id=referent.person_id, author_id=referent.person_id)
        if ended:
            self.history(ended, "member", f"{referent.name} n'est plus référent", referent.name,
                         subject_id=referent.person_id, author_id=referent.person_id)

    def diagnostic(self, referent: Referent, started: datetime) -> datetime:
        rng, refs = self.rng, self.refs
        at = self.later(started, 1, 30)
        situation = rng.choice(WORK_SITUATIONS)
        self.notebook.update(work_situation=situation, work_situation_date=(at - timedelta(days=rng.randint(0, 90)))
                             .date(), education_level=rng.choice(EDUCATION_LEVELS), right_rqth=rng.random() < 0.07,
                             diagnostic_version=2, diagnostic_updated_at=at, diagnostic_updated_by_name=referent.name)
        for situation_id in rng.sample(refs.situations, min(len(refs.situations), rng.randint(1, 3))):
            self.made.add("notebook_situation", id=self.id("situation"), notebook_id=self.notebook_id,
                          situation_id=situation_id, created_at=at, created_by_name=referent.name, deleted_at=None,
                          deleted_by_name="")
        for label in rng.sample(refs.projects, min(len(refs.projects), rng.randint(0, 2))):
            self.made.add("professional_project", id=self.id("project"), notebook_id=self.notebook_id,
                          rome_code=label, mobility_radius_km=rng.choice((None, 10, 20, 30)),
                          hourly_rate_cents=rng.choice((None, 1200, 1400)),
                          contract_type=rng.choice((None, "cdi", "cdd", "interim")),
                          employment_type=rng.choice((None, "full_time", "part_time")), updated_at=at,
                          updated_by_name=referent.name)
        self.history(at, "diagnostic", "Diagnostic socioprofessionnel mis à jour : situation professionnelle, "
                     "niveau de formation", referent.name, author_id=referent.person_id)
        self.touch(at)
        return at

    def plan(self, referent: Referent, diagnosed: datetime) -> list[dict[str, Any]]:
        rng, refs, targets = self.rng, self.refs, []
        themes = [t for t in FOCUS_THEMES if any(refs.targets.get(x) for x in TARGET_THEMES.get(t, (t,)))]
        for theme in rng.sample(themes, min(len(themes), rng.choice((1, 1, 2, 2, 3)))):
            at = self.later(diagnosed, 0, 20)
            focus_id = self.id("focus")
            self.made.add("focus", id=focus_id, notebook_id=self.notebook_id, theme=theme, created_at=at,
                          created_by=referent.person_id, created_by_name=referent.name, deleted_at=None)
            self.history(at, "focus", f"Axe de travail ajouté : {refs.theme_labels.get(theme, theme)}",
                         referent.name, subject_id=focus_id, author_id=referent.person_id)
            choices = sorted({t for x in TARGET_THEMES.get(theme, (theme,)) for t in refs.targets.get(x, [])})
            for text in rng.sample(choices, min(len(choices), rng.randint(1, 2))):
                target_at = self.later(at, 0, 15)
                target = self.made.add(
                    "target", id=self.id("target"), focus_id=focus_id, target=text,
                    status=weighted(rng, TARGET_STATUSES), linked_to="cer" if rng.random() < 0.6 else "no",
                    user_consent=True, version=1, created_at=target_at, created_by=referent.person_id,
                    created_by_name=referent.name, deleted_at=None)
                self.theme_of[target["id"]] = refs.theme_labels.get(theme, theme)
                self.actions_of[target["id"]] = []
                targets.append(target)
                self.history(target_at, "target", f"Objectif ajouté : {text}", referent.name,
                             subject_id=target["id"], author_id=referent.person_id)
                actions = refs.actions.get(theme) or [a for values in refs.actions.values() for a in values][:20]
                for action in rng.sample(actions, min(len(actions), rng.randint(1, 3))):
                    action_at = self.later(target_at, 0, 60)
                    row = self.made.add(
                        "action", id=self.id("action"), target_id=target["id"], action=action,
                        status=weighted(rng, ACTION_STATUSES), starting_at=action_at.date(), version=1,
                        created_at=action_at, created_by=referent.person_id, created_by_name=referent.name,
                        deleted_at=None)
                    self.actions_of[target["id"]].append(row)
                    self.history(action_at, "action", f"Action ajoutée : {action} (objectif « {text} »)",
                                 referent.name, subject_id=row["id"], author_id=referent.person_id)
                    self.touch(action_at)
        return targets

    def appointments(self, referent: Referent, started: datetime) -> None:
        rng = self.rng
        past = self.now - started
        for _ in range(rng.randint(0, 4) if past.days > 7 else 0):
            day = (started + timedelta(days=rng.randint(1, max(1, past.days - 1)))).astimezone(PARIS).date()
            at = at_work_hours(rng, day)
            if at >= self.now:
                continue
            self.appointment(referent, at, weighted(rng, PAST_APPOINTMENTS), started)
        if rng.random() < 0.45:
            day = self.today + timedelta(days=rng.randint(1, 40))
            self.appointment(referent, at_work_hours(rng, day), "planned", started)

    def appointment(self, referent: Referent, at: datetime, status: str, started: datetime) -> None:
        # Booked days before, but never before the référent took the notebook (nor before it existed).
        booked = min(max(at - timedelta(days=self.rng.randint(3, 20)), started), self.now - timedelta(minutes=5))
        appointment_id = self.id("appointment")
        self.made.add("appointment", id=appointment_id, notebook_id=self.notebook_id, person_id=referent.person_id,
                      at=at, status=status, version=1, created_at=booked, created_by=referent.person_id)
        # Booked « prévu »; its outcome written once known: présent, absent or excusé an hour after it, annulé half
        # way to it (a history saying « présent » a week before the day read as a mistake).
        said = {"planned": booked, "cancelled": booked + (at - booked) / 2}.get(status, at + timedelta(hours=1))
        for moment, state in [(booked, "planned")] + ([(min(said, self.now), status)] if status != "planned" else []):
            self.history(moment, "appointment", f"Rendez-vous du {at.astimezone(PARIS):%d/%m/%Y à %H:%M} avec "
                         f"{referent.name} : {APPOINTMENT_LABELS[state]}", referent.name, subject_id=appointment_id,
                         author_id=referent.person_id)
            self.touch(moment)

    def bilan(self, referent: Referent, started: datetime, targets: list[dict[str, Any]]) -> None:
        """A bilan d'accompagnement for some of those followed long enough: their objectives and actions as they
        stood at its date, all new (the first bilan)."""
        rng = self.rng
        at = started + timedelta(days=rng.randint(90, 200), hours=rng.randint(0, 6))
        if not targets or at > self.now - timedelta(days=1) or rng.random() >= 0.35:
            return
        on = at.astimezone(PARIS).date()

        def action(row):
            return {"action_id": str(row["id"]), "action": row["action"], "status": row["status"],
                    "status_label": ACTION_LABELS[row["status"]], "previous_status_label": "", "new": True,
                    "changes": [], "progress": "Nouvelle"}

        content = [{"target_id": str(t["id"]), "theme_label": self.theme_of.get(t["id"], ""), "target": t["target"],
                    "status": t["status"], "status_label": TARGET_LABELS[t["status"]], "previous_status_label": "",
                    "new": True, "changes": [], "progress": "Nouveau",
                    "actions": [action(a) for a in self.actions_of.get(t["id"], []) if a["created_at"] <= at]}
                   for t in targets if t["created_at"] <= at]
        if not content:
            return
        bilan_id = self.id("bilan")
        self.made.add("bilan", id=bilan_id, notebook_id=self.notebook_id, bilan_date=on, previous_date=None,
                      content=content, assessment=rng.choice(ASSESSMENTS),
                      next_steps="Faire le point dans trois mois sur les objectifs en cours.", created_at=at,
                      created_by=referent.person_id, created_by_name=referent.name)
        self.history(at, "bilan", f"Bilan d'accompagnement du {on:%d/%m/%Y}", referent.name, subject_id=bilan_id,
                     author_id=referent.person_id)
        self.touch(at)

    def contract(self, referent: Referent, started: datetime, targets: list[dict[str, Any]]) -> None:
        rng, today = self.rng, self.today
        state = weighted(rng, CONTRACT_STATES)
        if state == "none":
            return
        made_on = self.later(started, 5, 45)
        months, available = rng.choice((6, 12)), (today - started.astimezone(PARIS).date()).days - 5
        elapsed = None
        if state in ("running", "ending", "ended"):
            # Signed CERs run 6 or 12 months from a start after the référent came; their dates say their state.
            low, high = {"running": (10, months * 30 - 35), "ending": (months * 30 - 30, months * 30),
                         "ended": (months * 30 + 1, months * 30 + 120)}[state]
            if min(high, available) < low:
                state = "draft"  # followed too recently for this state
            else:
                elapsed = rng.randint(low, min(high, available))
        if elapsed is not None:
            start = today - timedelta(days=elapsed)
            end = start + timedelta(days=months * 30)
            made_on = datetime.combine(start, time(10), PARIS) - timedelta(days=rng.randint(3, 20))
            made_on = max(made_on, started + timedelta(hours=1))
        else:
            start = today + timedelta(days=rng.randint(-10, 20))
            end = start + timedelta(days=months * 30)
        made_on = min(made_on, self.now - timedelta(hours=2))
        status = {"running": "signed", "ending": "signed"}.get(state, state)
        contract_id = self.id("contract")
        objectives = [{"target_id": str(t["id"]), "theme_label": self.theme_of.get(t["id"], ""), "target": t["target"],
                       "actions": [{"action": a["action"], "status": ACTION_LABELS[a["status"]]}
                                   for a in self.actions_of.get(t["id"], [])]}
                      for t in targets if t["linked_to"] == "cer"]
        content = {**self.content(), "objectives": objectives,
                   "beneficiary_commitments": "Me rendre aux rendez-vous et tenir mon référent informé.",
                   "referent_commitments": "Accompagner les démarches et faire le point chaque mois."}
        steps = [("draft", "Brouillon du CER préparé")]
        if status in ("submitted", "validated", "signed", "ended"):
            steps.append(("submitted", "CER envoyé pour validation"))
        if status in ("validated", "signed", "ended"):
            steps.append(("validated", "CER validé"))
        if status in ("signed", "ended"):
            steps.append(("signed", "CER signé en présence du référent"))
        if status == "ended":
            steps.append(("ended", "Fin du contrat"))
        moments, at = [], made_on
        for _ in steps:
            moments.append(at)
            at = min(at + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5)), self.now - timedelta(minutes=30))
        signed_on = moments[3].astimezone(PARIS).date() if len(moments) > 3 else None
        ended_on = end if status == "ended" else None
        self.made.add(
            "contract", id=contract_id, notebook_id=self.notebook_id, kind="cer", status=status, start_date=start,
            end_date=end, content=content, version=len(steps), created_at=made_on, created_by=referent.person_id,
            created_by_name=referent.name, submitted_at=moments[1] if len(moments) > 1 else None,
            decided_on=moments[2].astimezone(PARIS).date() if len(moments) > 2 else None,
            decided_by_name=self.team.manager_name if len(moments) > 2 else "", decision_comment="",
            return_reason="", signed_on=signed_on, signed_in_person=signed_on is not None,
            signature_recorded_by_name=referent.name if signed_on else "", ended_on=ended_on,
            end_reason=rng.choice(ENDINGS) if ended_on else "", renewed_from_id=None)
        for version, ((step_status, summary), moment) in enumerate(zip(steps, moments, strict=True), start=1):
            author = self.team.manager_name if step_status == "validated" else referent.name
            self.made.add("contract_version", id=self.id("contract_version"), contract_id=contract_id,
                          version=version, status=step_status, start_date=start, end_date=end, content=content,
                          changed=[], summary=summary, author_id=None if step_status == "validated"
                          else referent.person_id, author_name=author, created_at=moment)
            self.history(moment, "contract", f"{summary} (CER)", author, subject_id=contract_id)
            self.touch(moment)

    def content(self) -> dict[str, Any]:
        b = next(r for r in reversed(self.made.beneficiaries) if r["id"] == self.beneficiary_id)
        return {"firstname": b["firstname"], "lastname": b["lastname"], "date_of_birth": b["date_of_birth"].isoformat(),
                "address": " ".join(p for p in (b["address1"], b["postal_code"], b["city"]) if p),
                "phone": b["mobile_number"], "email": "", "right_rsa": b["right_rsa"] or "",
                "work_situation": self.notebook["work_situation"] or "", "situations": [],
                "education_level": self.notebook["education_level"] or "", "projects": []}

    def reorientation(self, referent: Referent, started: datetime) -> None:
        rng = self.rng
        draw = rng.random()
        if draw >= 0.11:
            return
        current = self.notebook["orientation_system_id"]
        others = [s for s in self.team.systems if s.id != current] or self.team.systems
        wanted = rng.choice(others)
        at = self.later(started, 30, 200)
        pending = draw < 0.07
        decided_at = None if pending else self.later(at, 2, 20)
        request_id = self.id("request")
        decider = self.team.orientation_manager_name or self.team.manager_name
        self.made.add(
            "orientation_request", id=request_id, notebook_id=self.notebook_id, requested_by_id=referent.person_id,
            requested_by_name=referent.name, requested_orientation_system_id=wanted.id,
            reason=rng.choice(("Les freins sociaux passent avant l'emploi pour le moment.",
                               "Projet professionnel mûr : un accompagnement emploi conviendrait mieux.",
                               "Problème de santé durable, suivi social à privilégier.")),
            created_at=at, status="pending" if pending else "denied", decided_at=decided_at,
            decided_by_name="" if pending else decider, decided_orientation_system_id=None,
            decision_reason="" if pending else "Maintien de l'accompagnement actuel jusqu'à la fin du CER.")
        self.history(at, "orientation", f"Demande de réorientation : orientation recommandée {wanted.name}",
                     referent.name, subject_id=request_id, author_id=referent.person_id)
        if decided_at:
            self.history(decided_at, "orientation", "Demande de réorientation refusée : maintien de l'accompagnement",
                         decider, subject_id=request_id)
        self.touch(decided_at or at)

    def exchanges(self, referent: Referent, colleague: Referent, joined: datetime) -> None:
        """A thread between the référent and the colleague, from the day the colleague joined the group."""
        rng = self.rng
        if rng.random() >= 0.6:
            return
        b = next(r for r in reversed(self.made.beneficiaries) if r["id"] == self.beneficiary_id)
        at, times, said = joined, [], set()
        for k in range(rng.randint(1, 4)):
            at = self.later(at, 1, 25)  # after the previous one, even when it stops at now
            author = (referent, colleague)[k % 2] if rng.random() < 0.8 else colleague
            # One draw as rng.choice makes (the population after it stays the same), the next sentence if said.
            drawn = rng.randrange(len(MESSAGES))
            index = next((drawn + n) % len(MESSAGES) for n in range(len(MESSAGES))
                         if (drawn + n) % len(MESSAGES) not in said)
            said.add(index)
            text = MESSAGES[index].format(name=b["firstname"])
            self.made.add("exchange_message", id=self.id("message"), notebook_id=self.notebook_id,
                          author_id=author.person_id, author_name=author.name,
                          author_structure=self.team.structure_names.get(author.structure_id, ""),
                          text_encrypted=self.encrypt(text), shared_with_beneficiary=rng.random() < 0.2,
                          addressed_to=None, mentions=[], created_at=at)
            times.append(at)
            self.touch(at)
        # The colleague read everything; the référent is behind on some threads (unread messages for the demo).
        self.made.add("exchange_read", notebook_id=self.notebook_id, person_id=colleague.person_id,
                      read_up_to=times[-1])
        if rng.random() < 0.5:
            self.made.add("exchange_read", notebook_id=self.notebook_id, person_id=referent.person_id,
                          read_up_to=times[0])


def phone_forms(e164: str) -> tuple[str, ...]:
    """As ``handlers.beneficiaries.phone_forms``: the number as people type it, for the search."""
    digits = e164.lstrip("+")
    return ("0" + digits[-9:], digits) if digits else ()


def daily_snapshots(made: Made, deployment_id: uuid.UUID, today: date, no_structure: uuid.UUID,
                    skip: frozenset[date] = frozenset()) -> list[dict[str, Any]]:
    """The dashboards' daily snapshots (``pilotage_snapshot`` rows) of the population's past, as the service would
    have taken them each day since its first notebook until yesterday (today's is the service's own): per structure
    and support status, the notebooks created by the end of that Paris day, followed by a référent then, else waiting
    with a structure, else not accompanied. ``skip``: days already taken. Pure and deterministic, like the rest."""
    if not made.notebooks:
        return []

    def day_of(moment: datetime) -> date:
        return moment.astimezone(PARIS).date()

    structures: dict[uuid.UUID, list[tuple[date, uuid.UUID]]] = {}
    for row in made.rows.get("beneficiary_structure", []):
        structures.setdefault(row["notebook_id"], []).append((day_of(row["started_at"]), row["structure_id"]))
    referents: dict[uuid.UUID, list[tuple[date, date | None]]] = {}
    for row in made.rows.get("member", []):
        if row["member_type"] == "referent":
            ended = day_of(row["ended_at"]) if row["ended_at"] else None
            referents.setdefault(row["notebook_id"], []).append((day_of(row["started_at"]), ended))
    first = min(day_of(n["created_at"]) for n in made.notebooks)
    span = (today - first).days
    counts: dict[tuple[int, uuid.UUID, str], int] = {}
    for notebook in made.notebooks:
        notebook_id = notebook["id"]
        # The state at the end of each day from the notebook's creation on: a référent counts from his first day to
        # the day before the one he left (a hand-over ends one and starts the next the same day: followed throughout).
        followed = referents.get(notebook_id, [])
        placed = sorted(structures.get(notebook_id, []))
        created = day_of(notebook["created_at"])
        # The state changes only on these days: computed there, counted on every day until the next one.
        changes = sorted(d for d in {created, *(since for since, _ in placed), *(since for since, _ in followed),
                                     *(until for _, until in followed if until)} if created <= d < today)
        changes.append(today)
        for start, end in zip(changes, changes[1:]):
            structure = next((s for since, s in placed if since <= start), None)
            if any(since <= start and (until is None or until > start) for since, until in followed):
                support = "accompanied"
            elif structure is not None:
                support = "waiting"
            else:
                support = "not_accompanied"
            for offset in range((start - first).days, min((end - first).days, span)):
                key = (offset, structure or no_structure, support)
                counts[key] = counts.get(key, 0) + 1
    return [{"id": made_id(int(deployment_id) % 1_000_000, "snapshot", offset, structure_id, support),
             "day": first + timedelta(days=offset), "deployment_id": deployment_id, "structure_id": structure_id,
             "support": support, "count": n}
            for (offset, structure_id, support), n in sorted(counts.items())
            if first + timedelta(days=offset) not in skip]
