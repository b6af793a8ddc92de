"""The demo territory of `make run`."""
import uuid

from contracts.identity import DemoAccount, Role

# Fixed so that every seed of every machine names the same deployment.
DEMO_93 = uuid.UUID("93000000-0000-4000-8000-000000000093")
DEMO_DEPLOYMENT_LABEL = "Démo 93"

DEMO_ACCOUNTS = [
    DemoAccount(email="admin@demo.carnet.test", role=Role.admin_cdb),
    DemoAccount(email="manager@demo.carnet.test", role=Role.manager, deployment_id=DEMO_93),
    DemoAccount(email="structure@demo.carnet.test", role=Role.admin_structure, deployment_id=DEMO_93),
    DemoAccount(email="orientation@demo.carnet.test", role=Role.orientation_manager, deployment_id=DEMO_93),
    DemoAccount(email="pro@demo.carnet.test", role=Role.professional, deployment_id=DEMO_93),
    DemoAccount(email="beneficiaire@demo.carnet.test", role=Role.beneficiary, deployment_id=DEMO_93),
]
