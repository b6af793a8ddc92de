"""The demo territory of `make run`: one account per role, a structure, a beneficiary reachable by SMS.

Identity gets the accounts (so that every role can log in at once), directory the territory and its
people with the same emails: their events then link each account to its profile.
"""
import uuid

from contracts.directory import DemoPerson, DemoStructure, PersonFields, PersonRole, SeedDemoTerritoryV1, StructureFields
from contracts.identity import DemoAccount, DeploymentChoice, Role

# Fixed so that every seed of every machine names the same deployment and structure.
DEMO_93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
DEMO_STRUCTURE = uuid.UUID("93000000-0000-4000-8000-00000000a001")
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
    DemoAccount(email="beneficiaire@demo.carnet.test", role=Role.beneficiary, deployment_id=DEMO_93,
                firstname="Sophie", lastname="Tifour", phone=DEMO_BENEFICIARY_PHONE),
]

# Profiles of the people of structures; ids fixed like the territory's.
DEMO_PROFILE_IDS = {Role.manager: "b001", Role.admin_structure: "b002", Role.orientation_manager: "b003",
                    Role.professional: "b004"}
DEMO_TERRITORY = SeedDemoTerritoryV1(
    deployment_id=DEMO_93, label=DEMO_DEPLOYMENT_LABEL, department_code="93",
    structures=[DemoStructure(structure_id=DEMO_STRUCTURE, structure=StructureFields(
        name="Centre communal d'action sociale de Livry-Gargan", postal_code="93190", city="Livry-Gargan",
        address1="3 place François Mitterrand", phone="01 41 70 88 00"))],
    people=[
        DemoPerson(person_id=uuid.UUID(f"93000000-0000-4000-8000-00000000{DEMO_PROFILE_IDS[a.role]}"),
                   role=PersonRole(a.role.value),
                   person=PersonFields(firstname=a.firstname, lastname=a.lastname, email=a.email),
                   structure_ids=a.structure_ids)
        for a in DEMO_ACCOUNTS if a.role in DEMO_PROFILE_IDS
    ],
)
