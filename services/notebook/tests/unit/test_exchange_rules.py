"""Rules of the exchanges between professionals: who sees which message, whom a message tells (members only, never
the author), what counts as unread, and who may read or write the thread (habilitation rows)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.identity import Role
from notebook.domain import exchanges as rules
from notebook.domain.habilitation import Operation as O
from notebook.domain.habilitation import Relation as R
from notebook.domain.habilitation import may

ALL = frozenset
PIERRE, SIMON, ELOISE, ELODIE = (uuid.uuid4() for _ in range(4))
GROUP = [rules.GroupMember(PIERRE, "Pierre", "Chevalier"), rules.GroupMember(SIMON, "Simon", "Anka"),
         rules.GroupMember(ELOISE, "Éloïse", "Martin"), rules.GroupMember(ELODIE, "Élodie", "Martin")]
OUTSIDER = uuid.uuid4()


@pytest.mark.parametrize("shared, member, seen", [
    (False, True, True), (True, True, True), (True, False, True), (False, False, False)])
def test_members_see_the_thread_and_the_beneficiary_only_what_was_shared(shared, member, seen):
    assert rules.visible(rules.Seen(shared_with_beneficiary=shared), member=member) is seen


def test_chosen_mentions_and_the_question_tell_members_in_the_groups_order_never_the_author():
    told, addressed = rules.recipients(SIMON, GROUP, [ELOISE, SIMON], PIERRE, "Une question")
    assert told == [PIERRE, ELOISE] and addressed == PIERRE


@pytest.mark.parametrize("text, expected", [
    ("Voir avec @Pierre Chevalier.", [PIERRE]),
    ("@pierre  CHEVALIER merci", [PIERRE]),
    ("cc @Chevalier Pierre", [PIERRE]),
    ("cc @Pierre", [PIERRE]),                       # one Pierre in the group
    ("cc @eloise martin et @Élodie Martin", [ELOISE, ELODIE]),
    ("cc @Martin", []),                             # a last name alone names nobody
    ("écrire à pierre@chevalier.fr", []),           # an address is no mention
    ("@Pierrette Chevalier", []),                   # not a whole name
    ("@Olivier Dehors, pas du groupe", []),
    ("Simon écrit @Simon Anka", []),                # the author, here Simon, is never told
])
def test_written_mentions_resolve_against_the_members_only(text, expected):
    assert rules.recipients(SIMON, GROUP, [], None, text)[0] == expected


@pytest.mark.parametrize("chosen, addressed, field", [
    ([OUTSIDER], None, "mentions"), ([], OUTSIDER, "addressed_to"), ([], SIMON, "addressed_to")])
def test_whoever_is_not_a_member_cannot_be_mentioned_or_asked(chosen, addressed, field):
    with pytest.raises(rules.ExchangeError) as refused:
        rules.recipients(SIMON, GROUP, chosen, addressed, "Bonjour")
    assert refused.value.field == field and refused.value.message[0].isupper()


def test_an_empty_message_is_refused():
    with pytest.raises(rules.ExchangeError):
        rules.check_text(" \n\t ")
    assert rules.check_text("  Bonjour \n") == "Bonjour"


def test_unread_are_the_others_messages_after_the_marker():
    t0 = datetime(2026, 11, 28, 9, tzinfo=UTC)
    thread = [(PIERRE, t0), (SIMON, t0 + timedelta(minutes=1)), (SIMON, t0 + timedelta(minutes=2)), (None, t0)]
    assert rules.unread(thread, PIERRE, None) == 3
    assert rules.unread(thread, PIERRE, t0 + timedelta(minutes=1)) == 1
    assert rules.unread(thread, SIMON, None) == 2


TABLE = [
    (Role.professional, ALL({R.territory, R.member}), O.view_exchanges, True),
    (Role.professional, ALL({R.territory, R.member}), O.post_exchange, True),
    (Role.orientation_manager, ALL({R.territory, R.member}), O.post_exchange, True),
    (Role.professional, ALL({R.territory}), O.view_exchanges, False),
    (Role.professional, ALL({R.territory}), O.post_exchange, False),
    (Role.professional, ALL({R.elsewhere}), O.view_exchanges, False),
    (Role.orientation_manager, ALL({R.territory}), O.view_exchanges, False),
    (Role.manager, ALL({R.territory}), O.view_exchanges, False),
    (Role.manager, ALL({R.territory}), O.view_shared_exchanges, False),
    (Role.admin_structure, ALL({R.territory, R.structure}), O.view_exchanges, False),
    (Role.admin_cdb, ALL({R.territory}), O.view_exchanges, False),
    (Role.beneficiary, ALL({R.own}), O.view_shared_exchanges, True),
    (Role.beneficiary, ALL({R.own}), O.view_exchanges, False),
    (Role.beneficiary, ALL({R.own}), O.post_exchange, False),
    (Role.beneficiary, ALL(), O.view_shared_exchanges, False),
    (Role.beneficiary, ALL({R.own}), O.reply_shared_exchange, True),
    (Role.beneficiary, ALL(), O.reply_shared_exchange, False),
    (Role.professional, ALL({R.member, R.territory}), O.reply_shared_exchange, False),
    (Role.manager, ALL({R.territory}), O.reply_shared_exchange, False),
]


@pytest.mark.parametrize("role, relations, operation, allowed", TABLE)
def test_habilitation_of_the_exchanges(role, relations, operation, allowed):
    assert may(role, relations, operation) is allowed
