"""A beneficiary reads pages written for her (issue 20): the terms of use she accepts speak of her notebook, in
plain words, not of « the people you are in charge of »; « Mon compte » says what she can change there and that
« Mon carnet » changes the same; a professional still reads the professionals' terms, and the public page both."""
from __future__ import annotations

import re
import uuid
from html import unescape
from types import SimpleNamespace

import pytest

from contracts.identity import Role
from gateway.web.common import templates

pytestmark = pytest.mark.unit


def visitor(role: Role) -> SimpleNamespace:
    return SimpleNamespace(me=SimpleNamespace(role=role, firstname="Sophie", lastname="Tifour", email="",
                                              cgu_version="2", pending_steps=[], profile_id=uuid.uuid4()),
                           manages_accounts=False)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def terms(who: SimpleNamespace | None) -> str:
    return text(templates.env.get_template("_cgu_text.html.j2").render(visitor=who))


def test_the_beneficiary_reads_terms_about_her_own_notebook():
    mine = terms(visitor(Role.beneficiary))
    assert "À quoi sert Carnet de bord" in mine and "votre parcours" in mine
    assert "Ne donnez à personne" in mine and "Mes données" in mine
    assert "dont vous avez la charge" not in mine and "objectives" not in mine


def test_a_professional_reads_the_professionals_terms_and_the_public_page_both():
    pro = terms(visitor(Role.professional))
    assert "dont vous avez la charge" in pro and "À quoi sert Carnet de bord" not in pro
    public = terms(None)
    assert "Pour les personnes accompagnées" in public and "Pour les professionnels" in public
    assert "dont vous avez la charge" in public and "À quoi sert Carnet de bord" in public


def test_my_account_tells_the_beneficiary_what_she_can_change_and_where():
    b = SimpleNamespace(version=3, mobile_number="0612345678", email="", address1="", address2="", postal_code="",
                        city="", notification_channels=["sms"])
    page = templates.env.get_template("account.html.j2").render(
        visitor=visitor(Role.beneficiary), b=b, csrf="jeton", sessions=[], request=SimpleNamespace(
            url=SimpleNamespace(path="/compte")), main_menu=lambda *_: [], logins=[])
    shown = text(page)
    assert "Fonction" not in shown and 'name="position"' not in page
    assert "Vous pouvez changer ici votre numéro de téléphone" in shown
    assert re.search(r'<a href="/mon-carnet#informations">Mon carnet</a>', page)
    assert "demandez à votre accompagnateur de le modifier" not in shown
