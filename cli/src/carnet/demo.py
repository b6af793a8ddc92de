"""The demo territory of `make run`: one account per role, a structure, a beneficiary reachable by SMS."""
import uuid

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
