"""``construct_validated``: the message validation would make of valid values, its defaults filled without
pydantic's per-call look at each default factory (issue 15 item 8)."""
import uuid

import pytest

from contracts.base import construct_validated
from contracts.pilotage import NotebookChangedV1
from contracts.profiles import BeneficiaryCreatedV1

pytestmark = pytest.mark.unit


def test_a_message_constructed_is_the_one_validation_makes_of_the_same_values():
    values = {"profile_id": uuid.uuid4(), "deployment_id": uuid.uuid4(), "email": "zoe@exemple.fr",
              "phone": "+33612345678", "firstname": "Zoé", "lastname": "D'Arc"}
    built = construct_validated(BeneficiaryCreatedV1, **values)
    validated = BeneficiaryCreatedV1(**values, event_id=built.event_id, occurred_at=built.occurred_at)
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_fields_set == set(values)  # the defaults stay unset, as model_construct leaves them
    assert (built.structure_ids, built.position, built.created_by_name) == ([], "", "")


def test_each_message_gets_its_own_defaults():
    ids = dict(notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4())
    first, second = construct_validated(NotebookChangedV1, **ids), construct_validated(NotebookChangedV1, **ids)
    assert first.event_id != second.event_id
    one, other = (construct_validated(BeneficiaryCreatedV1, profile_id=uuid.uuid4(), deployment_id=None)
                  for _ in range(2))
    assert one.structure_ids is not other.structure_ids
