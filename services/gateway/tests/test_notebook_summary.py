"""The summary band of the notebook page, with a notebook service answering in memory: référent and structure,
orientation, rights and droits et devoirs, CER and its end, next appointment, open request and unread exchanges,
each linking to its section (whose anchor exists), names printed as text; a notebook waiting for its référent
says so; the CER's states read in French."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from contracts.exchanges import ExchangesReply, ExchangeView, ListExchangesV1
from contracts.identity import GetMeV1, MeReply, Role
from contracts.notebook import (
    Access,
    AppointmentView,
    BeneficiaryView,
    ContractLink,
    ContractStatus,
    ContractSummary,
    DiagnosticView,
    GetNotebookPageV1,
    GetReferentialsV1,
    MemberType,
    MemberView,
    NotebookPage,
    OrientationRequestStatus,
    OrientationRequestView,
    PersonRef,
    Referentials,
    RightRsa,
    StructureLinkView,
    UpdateBeneficiaryV1,
)
from gateway.web.formatting import PARIS
from gateway.web.notebook_summary import cer_item, summary_band
from services.gateway.tests.fake_bus import FakeRpc, visit
from servicekit.errors import Invalid

pytestmark = pytest.mark.unit
TERRITORY, NOTEBOOK, ME = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
HOSTILE = '<script>alert("x")</script>'
NOW = datetime.now(UTC)
TODAY = date.today()


def pierre(structure: str = "CCAS de Livry-Gargan") -> PersonRef:
    return PersonRef(person_id=ME, firstname="Pierre", lastname="Chevalier", structure_name=structure)


def followed() -> NotebookPage:
    return NotebookPage(
        notebook_id=NOTEBOOK, deployment_id=TERRITORY, access=Access.full,
        beneficiary=BeneficiaryView(beneficiary_id=uuid.uuid4(), version=1, firstname="Sophie", lastname="Tifour",
                                    date_of_birth=date(1981, 1, 11), right_rsa=RightRsa.droit_ouvert_versable,
                                    subject_to_right_and_duty=True),
        members=[MemberView(member_id=uuid.uuid4(), person=pierre(HOSTILE), member_type=MemberType.referent,
                            started_at=NOW - timedelta(days=90))],
        structures=[StructureLinkView(structure_id=uuid.uuid4(), name=HOSTILE, status="current",
                                      started_at=NOW - timedelta(days=100))],
        orientation_system_name="Social", oriented_at=NOW - timedelta(days=100), diagnostic=DiagnosticView(),
        appointments=[
            AppointmentView(appointment_id=uuid.uuid4(), person=pierre(), at=NOW - timedelta(days=3),
                            status="present", version=1),
            AppointmentView(appointment_id=uuid.uuid4(), person=pierre(), at=NOW + timedelta(days=20),
                            status="planned", version=1),
            AppointmentView(appointment_id=uuid.uuid4(), person=pierre(), at=NOW + timedelta(days=6),
                            status="planned", version=1)],
        orientation_request=OrientationRequestView(
            request_id=uuid.uuid4(), status=OrientationRequestStatus.pending, requested_at=NOW - timedelta(days=2),
            requested_orientation_system_name="Professionnel"),
        contracts=[ContractSummary(contract_id=uuid.uuid4(), kind=ContractLink.cer, status=ContractStatus.signed,
                                   active=True, start_date=TODAY - timedelta(days=170),
                                   end_date=TODAY + timedelta(days=10))],
        allowed=["view_contracts", "view_exchanges", "edit_parcours"])


def waiting() -> NotebookPage:
    return followed().model_copy(update={
        "members": [], "appointments": [], "contracts": [], "orientation_request": None,
        "structures": [StructureLinkView(structure_id=uuid.uuid4(), name="Groupe NS", status="current",
                                         started_at=NOW)],
        "beneficiary": followed().beneficiary.model_copy(update={"subject_to_right_and_duty": False,
                                                                 "right_rsa": None})})


def bus(page: NotebookPage, unread: int = 0, role: Role = Role.professional) -> FakeRpc:
    """The notebook service answering ``page`` to Pierre (or to the beneficiary), with ``unread`` messages."""
    me = MeReply(account_id=uuid.uuid4(), email="pro@carnet.fr", phone=None, role=role, deployment_id=TERRITORY,
                 profile_id=ME, structure_ids=[], firstname="Pierre", lastname="Chevalier")
    return FakeRpc({
        GetMeV1: me, GetNotebookPageV1: page,
        GetReferentialsV1: Referentials(themes={}, focus_themes=[], target_themes={}, situations=[], targets=[],
                                        actions=[]),
        UpdateBeneficiaryV1: Invalid("L'adresse électronique n'est pas valide."),  # as the service refuses it
        ListExchangesV1: ExchangesReply(notebook_id=NOTEBOOK, unread=unread, messages=[
            ExchangeView(exchange_id=uuid.uuid4(), author_name="Simon", created_at=NOW, text="Bonjour", unread=True)
            for _ in range(unread)])})


async def notebook_html(page: NotebookPage, unread: int = 0, role: Role = Role.professional) -> str:
    path = "/mon-carnet" if role == Role.beneficiary else f"/carnets/{NOTEBOOK}"
    response = await visit(bus(page, unread, role), path)
    assert response.status_code == 200
    return response.text


def band(html: str) -> dict[str, str]:
    """Each entry of the band: its key → its text (tags removed, spaces collapsed)."""
    items = re.findall(r'<div class="summary-item[^"]*" data-summary="(\w+)">(.*?)</div>', html, re.S)
    return {key: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for key, body in items}


async def test_the_band_says_what_a_referent_looks_for_first_each_linking_to_its_section():
    html = await notebook_html(followed(), unread=3)
    items = band(html)
    next_visit = (NOW + timedelta(days=6)).astimezone(PARIS)
    assert items == {
        "referent": "Référent Pierre CHEVALIER &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
        "orientation": f"Orientation Social Décision du {(NOW - timedelta(days=100)).astimezone(PARIS):%d/%m/%Y}",
        "rights": "Droits RSA – Droit ouvert et versable Soumis aux droits et devoirs",
        "cer": f"CER Se termine le {TODAY + timedelta(days=10):%d/%m/%Y} "
               f"Du {TODAY - timedelta(days=170):%d/%m/%Y} au {TODAY + timedelta(days=10):%d/%m/%Y}",
        "appointment": f"Prochain rendez-vous {next_visit:%d/%m/%Y} à {next_visit:%H:%M} Avec Pierre CHEVALIER",
        "request": f"Réorientation Demandée le {(NOW - timedelta(days=2)).astimezone(PARIS):%d/%m/%Y} "
                   "Vers Professionnel",
        "exchanges": "Échanges 3 messages non lus",
    }
    assert "<script>alert" not in html
    # What asks for action stands out: the CER ending, the request, the unread messages.
    alerts = re.findall(r'<div class="summary-item summary-alert" data-summary="(\w+)">', html)
    assert alerts == ["cer", "request", "exchanges"]
    # Each links to a section the page has; the in-page navigation lists them.
    links = re.findall(r'data-summary="\w+">\s*<dt>[^<]*</dt>\s*<dd><a href="#([\w-]+)">', html)
    nav = re.search(r'<nav class="notebook-nav" aria-label="Sections du carnet">(.*?)</nav>', html, re.S).group(1)
    tabs = re.findall(r'<a href="#([\w-]+)" data-tab="onglet-([\w-]+)">([^<]+)</a>', nav)
    assert [(key, label) for _anchor, key, label in tabs] == [
        ("situation", "Situation"), ("parcours", "Parcours"), ("rendez-vous", "Rendez-vous"),
        ("contrats", "Contrats"), ("echanges", "Échanges"), ("historique", "Historique")]
    for anchor in {*links, *(anchor for anchor, _key, _label in tabs)}:
        assert f'id="{anchor}"' in html, anchor
    # Each tab links to the first section of its panel (so it works as a plain link without JavaScript); the
    # panels hold every section, the group with the situation and the plan with the orientation and diagnostic.
    panels = dict(re.findall(r'<div class="tab-panel" id="onglet-([\w-]+)" data-tab-panel>(.*?)(?=<div class="tab-panel"|'
                             r'<footer)', html, re.S))
    assert list(panels) == [key for _anchor, key, _label in tabs]
    for anchor, key, _label in tabs:
        assert re.findall(r'<section id="([\w-]+)"', panels[key])[0] == anchor, key
    assert re.findall(r'<section id="([\w-]+)"', panels["situation"])[:2] == ["informations", "groupe"]
    assert re.findall(r'<section id="([\w-]+)"', panels["parcours"]) == ["orientation", "diagnostic", "plan"]
    # Headings in order: the band's title is the first h2, after the h1.
    assert html.index("<h1>") < html.index('<h2 id="t-summary" class="sr-only">En bref</h2>') < html.index(
        '<h2 id="t-info">')


async def test_a_notebook_waiting_for_its_referent_says_so():
    items = {key: unescape(text) for key, text in band(await notebook_html(waiting())).items()}
    assert items["referent"] == "Référent En attente d'un référent Groupe NS"
    assert items["rights"] == "Droits RSA non renseigné Non soumis aux droits et devoirs"
    assert items["cer"] == "CER Aucun CER"
    assert items["appointment"] == "Prochain rendez-vous Aucun rendez-vous prévu"
    assert items["request"] == "Réorientation Aucune demande en cours"
    assert items["exchanges"] == "Échanges Aucun message non lu"


async def test_the_beneficiary_reads_her_own_band_in_plain_words():
    page = followed().model_copy(update={"allowed": ["view_contracts", "view_shared_exchanges"]})
    items = {key: unescape(text) for key, text in band(await notebook_html(page, role=Role.beneficiary)).items()}
    assert list(items) == ["referent", "orientation", "rights", "cer", "appointment", "exchanges"]  # no request
    assert items["referent"].startswith("Mon référent Pierre CHEVALIER")
    assert items["orientation"].startswith("Mon accompagnement Social")
    assert items["cer"].startswith("Mon contrat d'engagement (CER) Se termine le")
    assert items["appointment"].startswith("Mon prochain rendez-vous")
    assert items["exchanges"] == "Messages Aucun message"


async def test_the_beneficiary_waiting_for_a_referent_is_spoken_to():
    page = waiting().model_copy(update={"allowed": ["view_contracts", "view_shared_exchanges"]})
    assert "Aucun professionnel ne vous suit pour le moment." in await notebook_html(page, role=Role.beneficiary)
    assert "Aucun professionnel ne suit ce bénéficiaire pour le moment." in await notebook_html(waiting())


def test_a_public_card_links_only_to_what_it_shows():
    page = followed().model_copy(update={"access": Access.public, "allowed": ["join"], "appointments": [],
                                         "contracts": [], "orientation_request": None})
    items = summary_band(page, None, mine=False, now=NOW)
    assert [(i.key, i.href) for i in items] == [("referent", "#groupe"), ("orientation", "#groupe"),
                                                ("rights", "#informations")]


@pytest.mark.parametrize(("status", "active", "start", "end", "value", "alert"), [
    (ContractStatus.draft, False, 5, 185, "Brouillon", False),
    (ContractStatus.submitted, False, 5, 185, "En attente de validation", False),
    (ContractStatus.validated, False, 5, 185, "Validé, à signer", False),
    (ContractStatus.signed, True, -30, 150, "En vigueur", False),
    (ContractStatus.signed, False, 3, 183, "Signé", False),
    (ContractStatus.ended, False, -200, -20, "Terminé", True),
])
def test_the_cer_reads_in_french_in_every_state(status, active, start, end, value, alert):
    page = followed().model_copy(update={"contracts": [ContractSummary(
        contract_id=uuid.uuid4(), kind=ContractLink.cer, status=status, active=active,
        start_date=TODAY + timedelta(days=start), end_date=TODAY + timedelta(days=end))]})
    item = cer_item(page, TODAY)
    assert (item.value, item.alert, item.href) == (value, alert, "#contrats")


# A refused form of the notebook page comes back as typed (issue 20 item 1, « forms that keep what was typed »): the
# personal details, a new appointment and a reorientation request, each refused by an input rule, show the error in
# their section with every value typed, the form unfolded.
def section_of(html: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}".*?</section>', html, re.S).group(0)


def typed(html: str, name: str) -> str:
    """The value a field of the form shows (an input's value, a textarea's text)."""
    found = re.search(rf'<input[^>]* name="{name}"[^>]* value="([^"]*)"|<input[^>]* value="([^"]*)"[^>]* name="{name}"'
                      rf'|<textarea[^>]* name="{name}"[^>]*>([^<]*)</textarea>', html)
    assert found, name
    return unescape(next(group for group in found.groups() if group is not None))


async def test_refused_personal_details_come_back_as_typed():
    page = followed().model_copy(update={"allowed": [*followed().allowed, "edit_contact"]})
    b = page.beneficiary
    response = await visit(bus(page), f"/carnets/{NOTEBOOK}/informations", {
        "version": "1", "firstname": b.firstname, "lastname": b.lastname, "date_of_birth": "1981-01-11",
        "mobile_number": "07 81 22 33 44", "email": "pas une adresse", "address1": "3 rue de la Paix",
        "postal_code": "93100", "city": "Montreuil"})
    assert response.status_code == 422
    section = section_of(response.text, "informations")
    assert 'role="alert"' in section
    assert '<details open>' in section
    assert (typed(section, "mobile_number"), typed(section, "email"), typed(section, "address1"),
            typed(section, "city")) == ("07 81 22 33 44", "pas une adresse", "3 rue de la Paix", "Montreuil")


async def test_a_refused_appointment_and_reorientation_request_come_back_as_typed():
    page = followed().model_copy(update={"allowed": [*followed().allowed, "manage_appointments",
                                                     "request_reorientation"], "orientation_request": None})
    response = await visit(bus(page), f"/carnets/{NOTEBOOK}/rendez-vous", {"day": "", "time": "15:45",
                                                                            "status": "present"})
    assert response.status_code == 422
    section = section_of(response.text, "rendez-vous")
    assert 'role="alert"' in section
    assert typed(section, "time") == "15:45"
    assert re.search(r'<option value="present" selected>', section)

    response = await visit(bus(page), f"/carnets/{NOTEBOOK}/demande-reorientation", {
        "reason": "Un accompagnement <social> renforcé", "orientation_system_id": ""})
    assert response.status_code == 422
    section = section_of(response.text, "orientation")
    assert 'role="alert"' in section
    assert "<details open><summary>Demander une réorientation" in section
    assert typed(section, "reason") == "Un accompagnement <social> renforcé"
    assert "<social>" not in section


@pytest.mark.parametrize("time", ["", "25:00", "14h30", "9:5", "12:60", "<b>"])
async def test_an_appointment_time_that_is_not_one_is_refused_in_french_as_typed(time):
    """The appointment's time is one field (type="time": « 14:30 »); a browser without it lets anything through,
    which is refused with what to type, the form coming back as typed."""
    page = followed().model_copy(update={"allowed": [*followed().allowed, "manage_appointments"]})
    response = await visit(bus(page), f"/carnets/{NOTEBOOK}/rendez-vous", {"day": "2026-12-01", "time": time,
                                                                            "status": "planned"})
    assert response.status_code == 422
    section = section_of(response.text, "rendez-vous")
    assert re.search(r'role="alert"[^>]*>[^<]*Indiquez l(&#39;|\')heure du rendez-vous', section), section
    assert 'type="time"' in section and typed(section, "time") == time and typed(section, "day") == "2026-12-01"
    assert "<b>" not in section


def test_an_appointment_time_is_read_in_paris():
    from gateway.web.notebook_pages import appointment_at
    at = appointment_at({"day": "2026-07-01", "time": "09:05"})
    assert (at.hour, at.minute, at.utcoffset().total_seconds()) == (9, 5, 7200)
    assert appointment_at({"day": "2026-12-01", "time": "14:30:00"}).hour == 14  # a browser may add seconds


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_the_address_reads_one_line_at_a_time_and_the_referent_names_its_system():
    """Walk of the demo at 375 px (issue 20): « 1 rue Pasteur Bâtiment B, 3e étage 93190 Livry-Gargan » ran the
    complement into the street, and « Référent Professionnel » read as a job title rather than the system."""
    page = followed()
    page = page.model_copy(update={
        "beneficiary": page.beneficiary.model_copy(update={"address1": "1 rue Pasteur", "address2": "Bâtiment B",
                                                           "postal_code": "93190", "city": "Livry-Gargan"}),
        "members": [page.members[0].model_copy(update={"orientation_system_name": "Professionnel"})]})
    html = await notebook_html(page)
    info = section_of(html, "informations")
    assert "<dd>1 rue Pasteur<br>Bâtiment B<br>93190 Livry-Gargan</dd>" in info
    assert "Référent (dispositif Professionnel)" in text_of(section_of(html, "groupe"))
    # The member's latest appointment is often one to come: « Dernier rendez-vous » over a date next week misled.
    assert '<th scope="col">Dernier rendez-vous fixé</th>' in section_of(html, "groupe")

    nowhere = page.model_copy(update={"beneficiary": page.beneficiary.model_copy(update={
        "address1": "", "address2": "", "postal_code": "", "city": ""})})
    assert "<dt>Adresse</dt><dd>Non renseignée</dd>" in section_of(await notebook_html(nowhere), "informations")


async def test_the_beneficiary_reads_how_to_answer_his_messages():
    """He cannot write in the professionals' thread but answers each message shared with him (issue 20): the page
    says so, and whom to call when it is urgent."""
    response = await visit(bus(followed(), 1, Role.beneficiary), "/mon-carnet/echanges")
    assert response.status_code == 200
    assert "Vous pouvez répondre à chacun de ces messages" in text_of(response.text)
    assert "Pour une question urgente, appelez votre référent" in text_of(response.text)
    assert 'href="/mon-carnet#groupe"' in response.text
