"""Another territory, pure rules: the transfer's state machine (who asks, who decides, one pending at a time, never to
the same territory), the referral's (who invites whom, until when) and their rows of the habilitation table."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from contracts.identity import Role
from contracts.transfers import TransferStatus
from notebook.domain import transfers as rules
from notebook.domain.habilitation import Operation as O
from notebook.domain.habilitation import Relation as R
from notebook.domain.habilitation import may
from servicekit.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.unit

ORIGIN, DESTINATION = uuid.uuid4(), uuid.uuid4()
TODAY = date(2026, 11, 28)


def ask(role=Role.manager, caller=ORIGIN, to=DESTINATION, known=True, pending=False, reason="Déménagement"):
    return rules.check_request(role, caller, ORIGIN, to, known, pending, reason)


def decide(status=TransferStatus.pending, role=Role.manager, caller=DESTINATION, accepted=True, reason=""):
    return rules.check_decision(status, role, caller, DESTINATION, accepted, reason)


def test_a_manager_of_the_origin_asks_a_transfer_to_another_known_territory():
    assert ask() == TransferStatus.pending


@pytest.mark.parametrize("role, caller", [(Role.manager, DESTINATION), (Role.professional, ORIGIN),
                                          (Role.orientation_manager, ORIGIN), (Role.admin_cdb, None),
                                          (Role.beneficiary, ORIGIN)])
def test_only_the_origins_managers_ask(role, caller):
    with pytest.raises(Forbidden, match="territoire du carnet"):
        ask(role=role, caller=caller)


def test_no_transfer_to_the_same_territory_nor_an_unknown_one_nor_without_a_reason():
    with pytest.raises(Invalid, match="déjà à ce territoire"):
        ask(to=ORIGIN)
    with pytest.raises(Invalid, match="n'existe pas"):
        ask(known=False)
    with pytest.raises(Invalid, match="motif"):
        ask(reason="  ")


def test_one_pending_transfer_at_a_time():
    with pytest.raises(Conflict, match="attend déjà"):
        ask(pending=True)


def test_a_manager_of_the_destination_accepts_or_refuses_with_a_reason():
    assert decide() == TransferStatus.accepted
    assert decide(accepted=False, reason="Pas d'adresse chez nous") == TransferStatus.refused
    with pytest.raises(Invalid, match="pourquoi"):
        decide(accepted=False, reason=" ")


@pytest.mark.parametrize("role, caller", [(Role.manager, ORIGIN), (Role.professional, DESTINATION),
                                          (Role.orientation_manager, DESTINATION), (Role.admin_cdb, None)])
def test_only_the_destinations_managers_decide(role, caller):
    with pytest.raises(Forbidden, match="destination"):
        decide(role=role, caller=caller)


@pytest.mark.parametrize("status", [None, TransferStatus.accepted, TransferStatus.refused])
def test_no_decision_without_a_pending_request(status):
    with pytest.raises(Conflict, match="n'attend plus"):
        decide(status=status)


def refer(role=Role.manager, caller=ORIGIN, person_role=Role.professional, person_territory=DESTINATION,
          until=TODAY + timedelta(days=30)):
    rules.check_referral(role, caller, ORIGIN, person_role, person_territory, until, TODAY)


def test_a_manager_invites_a_professional_of_another_territory_until_a_date():
    refer()
    refer(person_role=Role.orientation_manager, until=TODAY)
    with pytest.raises(Forbidden):
        refer(role=Role.professional)
    with pytest.raises(Forbidden):
        refer(caller=DESTINATION)
    with pytest.raises(Invalid, match="Aucun professionnel"):
        refer(person_role=None)
    with pytest.raises(Invalid, match="Seul un professionnel"):
        refer(person_role=Role.manager)
    with pytest.raises(Invalid, match="rattachez"):
        refer(person_territory=ORIGIN)
    with pytest.raises(Invalid, match="aujourd'hui"):
        refer(until=TODAY - timedelta(days=1))
    with pytest.raises(Invalid, match="un an"):
        refer(until=TODAY + timedelta(days=400))


def test_a_referral_ends_after_its_date_or_when_ended():
    assert rules.referral_active(TODAY, False, TODAY)
    assert not rules.referral_active(TODAY, False, TODAY + timedelta(days=1))
    assert not rules.referral_active(TODAY, True, TODAY)


ALL = frozenset
TABLE = [
    (Role.manager, ALL({R.territory}), O.request_transfer, True),
    (Role.manager, ALL({R.territory}), O.refer, True),
    (Role.manager, ALL({R.territory}), O.decide_transfer, False),
    (Role.manager, ALL({R.elsewhere}), O.request_transfer, False),
    (Role.manager, ALL({R.elsewhere}), O.decide_transfer, False),
    (Role.manager, ALL({R.elsewhere, R.destination}), O.decide_transfer, True),
    (Role.manager, ALL({R.elsewhere, R.destination}), O.view_full, False),
    (Role.orientation_manager, ALL({R.territory}), O.request_transfer, False),
    (Role.orientation_manager, ALL({R.territory, R.member}), O.refer, False),
    (Role.professional, ALL({R.territory, R.member}), O.request_transfer, False),
    (Role.professional, ALL({R.territory, R.member}), O.refer, False),
    (Role.professional, ALL({R.elsewhere, R.destination}), O.decide_transfer, False),
    (Role.admin_cdb, ALL({R.territory}), O.request_transfer, False),
    (Role.beneficiary, ALL({R.own}), O.request_transfer, False),
    # Referred from another territory: the group's work, not its membership nor the orientation.
    (Role.professional, ALL({R.referred}), O.view_full, True),
    (Role.professional, ALL({R.referred}), O.edit_parcours, True),
    (Role.orientation_manager, ALL({R.referred}), O.view_full, True),
    (Role.professional, ALL({R.referred}), O.invite, False),
    (Role.professional, ALL({R.referred}), O.leave, False),
    (Role.professional, ALL({R.referred}), O.request_reorientation, False),
    (Role.professional, ALL({R.referred}), O.request_transfer, False),
    (Role.professional, ALL({R.referred}), O.view_access_log, False),
    (Role.manager, ALL({R.referred}), O.view_full, False),
    (Role.admin_structure, ALL({R.referred}), O.view_full, False),
    (Role.professional, ALL({R.elsewhere}), O.view_public, False),
]


@pytest.mark.parametrize("role, relations, operation, allowed", TABLE)
def test_habilitation_rows_of_another_territory(role, relations, operation, allowed):
    assert may(role, relations, operation) is allowed
