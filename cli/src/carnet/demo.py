"""The demo territory of `make run`: one account per role, two structures, beneficiaries (one reachable by SMS);
then, beside them, a lived-in territory: a third structure, ten more professionals and 300 beneficiaries at every
stage (``DEMO_TEAM``, ``DEMO_POPULATION``), one of whom logs in (``DEMO_FOLLOWED_BENEFICIARY``). Tests seed the
first part only.

Identity gets the accounts (so that every role can log in at once), directory the territory and its
people with the same emails: their events then link each account to its profile.
"""
import uuid
from datetime import date

from contracts.directory import DemoPerson, DemoStructure, PersonFields, PersonRole, SeedDemoTerritoryV1, StructureFields
from contracts.identity import DemoAccount, DeploymentChoice, Role
from contracts.notebook import (
    BeneficiaryFields,
    DemoBeneficiary,
    DemoPopulation,
    RightRsa,
    SeedDemoNotebooksV1,
)

# Fixed so that every seed of every machine names the same deployment and structure.
DEMO_93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
DEMO_STRUCTURE = uuid.UUID("93000000-0000-4000-8000-00000000a001")
DEMO_OTHER_STRUCTURE = uuid.UUID("93000000-0000-4000-8000-00000000a002")
DEMO_DEPLOYMENT_LABEL = "Démo 93"
DEMO_DEPLOYMENTS = [DeploymentChoice(deployment_id=DEMO_93, label=DEMO_DEPLOYMENT_LABEL, department_code="93")]
DEMO_BENEFICIARY_PHONE = "06 12 34 56 78"

DEMO_ACCOUNTS = [
    DemoAccount(email="admin@demo.carnet.test", role=Role.admin_cdb, firstname="Alice", lastname="Admin"),
    DemoAccount(email="manager@demo.carnet.test", role=Role.manager, deployment_id=DEMO_93,
                firstname="Agathe", lastname="Deblouze"),
    DemoAccount(email="structure@demo.carnet.test", role=Role.admin_structure, deployment_id=DEMO_93,
                firstname="Jacques", lastname="Célaire", structure_ids=[DEMO_STRUCTURE]),
    DemoAccount(email="orientation@demo.carnet.test", role=Role.orientation_manager, deployment_id=DEMO_93,
                firstname="Giulia", lastname="Diaby"),
    DemoAccount(email="pro@demo.carnet.test", role=Role.professional, deployment_id=DEMO_93,
                firstname="Pierre", lastname="Chevalier", structure_ids=[DEMO_STRUCTURE]),
    DemoAccount(email="pro2@demo.carnet.test", role=Role.professional, deployment_id=DEMO_93,
                firstname="Simon", lastname="Anka", structure_ids=[DEMO_OTHER_STRUCTURE]),
    DemoAccount(email="beneficiaire@demo.carnet.test", role=Role.beneficiary, deployment_id=DEMO_93,
                firstname="Sophie", lastname="Tifour", phone=DEMO_BENEFICIARY_PHONE),
]

# Profiles of the people of structures; ids fixed like the territory's.
DEMO_PROFILE_IDS = {"manager@demo.carnet.test": "b001", "structure@demo.carnet.test": "b002",
                    "orientation@demo.carnet.test": "b003", "pro@demo.carnet.test": "b004",
                    "pro2@demo.carnet.test": "b005"}
DEMO_TERRITORY = SeedDemoTerritoryV1(
    deployment_id=DEMO_93, label=DEMO_DEPLOYMENT_LABEL, department_code="93",
    structures=[DemoStructure(structure_id=DEMO_STRUCTURE, structure=StructureFields(
        name="Centre communal d'action sociale de Livry-Gargan", postal_code="93190", city="Livry-Gargan",
        address1="3 place François Mitterrand", phone="01 41 70 88 00")),
                DemoStructure(structure_id=DEMO_OTHER_STRUCTURE, structure=StructureFields(
                    name="Groupe NS", postal_code="93200", city="Saint-Denis", phone="01 49 33 00 00"))],
    people=[
        DemoPerson(person_id=uuid.UUID(f"93000000-0000-4000-8000-00000000{DEMO_PROFILE_IDS[a.email]}"),
                   role=PersonRole(a.role.value),
                   person=PersonFields(firstname=a.firstname, lastname=a.lastname, email=a.email),
                   structure_ids=a.structure_ids)
        for a in DEMO_ACCOUNTS if a.email in DEMO_PROFILE_IDS
    ],
)

# Sophie Tifour is the beneficiary account above (same email and phone: her notebook links to it).
DEMO_NOTEBOOKS = SeedDemoNotebooksV1(deployment_id=DEMO_93, beneficiaries=[
    DemoBeneficiary(
        notebook_id=uuid.UUID(f"93000000-0000-4000-8000-0000000c{n:04d}"),
        beneficiary_id=uuid.UUID(f"93000000-0000-4000-8000-0000000d{n:04d}"),
        beneficiary=BeneficiaryFields(date_of_birth=date(1980 + n, n, 10 + n), postal_code="93190",
                                      city="Livry-Gargan", right_rsa=RightRsa.droit_ouvert_versable, **fields))
    for n, fields in enumerate([
        {"firstname": "Sophie", "lastname": "Tifour", "email": "beneficiaire@demo.carnet.test",
         "mobile_number": DEMO_BENEFICIARY_PHONE, "caf_number": "1234567", "pe_number": "1234567A",
         "nir": "2800593190123", "subject_to_right_and_duty": True},
        {"firstname": "Myrna", "lastname": "Henderson", "mobile_number": "06 98 76 54 32"},
        {"firstname": "Lindsay", "lastname": "Aguilar", "email": "lindsay.aguilar@demo.carnet.test"},
        {"firstname": "Étienne", "lastname": "Gonzalez"},
    ], start=1)
])

# --- The lived-in territory beside them (`make run` only) -------------------------------------------------------

DEMO_THIRD_STRUCTURE = uuid.UUID("93000000-0000-4000-8000-00000000a003")
# Ten more professionals, with accounts (each can log in and find a portfolio), in the three structures.
DEMO_TEAM_ACCOUNTS = [
    DemoAccount(email=f"pro{n}@demo.carnet.test", role=Role.professional, deployment_id=DEMO_93,
                firstname=firstname, lastname=lastname, structure_ids=[structure])
    for n, (firstname, lastname, structure) in enumerate([
        ("Nadia", "Benamar", DEMO_STRUCTURE), ("Julien", "Marchetti", DEMO_STRUCTURE),
        ("Aminata", "Keita", DEMO_STRUCTURE), ("Claire", "Vasseur", DEMO_OTHER_STRUCTURE),
        ("Rachid", "Ouali", DEMO_OTHER_STRUCTURE), ("Mélanie", "Robert", DEMO_OTHER_STRUCTURE),
        ("Thierry", "Lemaire", DEMO_THIRD_STRUCTURE), ("Sarah", "Cohen", DEMO_THIRD_STRUCTURE),
        ("Youssef", "El Amrani", DEMO_THIRD_STRUCTURE), ("Élodie", "Marin", DEMO_THIRD_STRUCTURE),
    ], start=3)
]
DEMO_TEAM_IDS = {a.email: uuid.UUID(f"93000000-0000-4000-8000-00000000b{n:03d}")
                 for n, a in enumerate(DEMO_TEAM_ACCOUNTS, start=6)}
DEMO_TEAM = SeedDemoTerritoryV1(
    deployment_id=DEMO_93, label=DEMO_DEPLOYMENT_LABEL, department_code="93",
    structures=[DemoStructure(structure_id=DEMO_THIRD_STRUCTURE, structure=StructureFields(
        name="Mission locale de Bondy", postal_code="93140", city="Bondy", address1="12 rue Roger Salengro",
        phone="01 48 47 00 00"))],
    people=[DemoPerson(person_id=DEMO_TEAM_IDS[a.email], role=PersonRole.professional,
                       person=PersonFields(firstname=a.firstname, lastname=a.lastname, email=a.email),
                       structure_ids=a.structure_ids) for a in DEMO_TEAM_ACCOUNTS],
)
# Pierre, Simon and the ten others follow them.
DEMO_REFERENT_IDS = [p.person_id for p in DEMO_TERRITORY.people if p.role == PersonRole.professional] + [
    DEMO_TEAM_IDS[a.email] for a in DEMO_TEAM_ACCOUNTS]
# One of the 300 logs in too: the one whose notebook shows the most (a référent, a CER running, an appointment to
# come, exchanges), chosen by the seed (``DemoPopulation.login_email``), always the same one. Sophie stays as she is.
DEMO_FOLLOWED_BENEFICIARY = DemoAccount(email="beneficiaire2@demo.carnet.test", role=Role.beneficiary,
                                        deployment_id=DEMO_93, firstname="Sébastien", lastname="Dupont")
DEMO_POPULATION = SeedDemoNotebooksV1(deployment_id=DEMO_93, beneficiaries=[], population=DemoPopulation(
    size=300, seed=93, months=18, referent_ids=DEMO_REFERENT_IDS, login_email=DEMO_FOLLOWED_BENEFICIARY.email))
