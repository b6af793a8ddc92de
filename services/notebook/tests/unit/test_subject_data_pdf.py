"""The PDF of everything held about a beneficiary: each section under its heading, French labels and dates, codes in
words, identifiers and empty values left out, an empty section said so."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from contracts.rights import SubjectDataSection
from notebook.adapters.subject_data_pdf import subject_data_pdf

pytestmark = pytest.mark.unit


def test_the_sections_read_as_french_text():
    pdf = subject_data_pdf("Sophie Tifour", "Seine-Saint-Denis", date(2026, 11, 29), [
        SubjectDataSection(service="notebook", key="identity", title="Identité, coordonnées et droits", data={
            "beneficiary_id": "8f2ac9de-c13a-46e7-ae80-65d3dc4f2a91", "firstname": "Sophie", "address2": "",
            "date_of_birth": "1990-04-12", "right_rsa": "rsa_droit_ouvert_et_suspendu",
            "notification_channels": ["email", "sms"]}),
        SubjectDataSection(service="notebook", key="members", title="Groupe de suivi", data={"membres": [
            {"person": {"firstname": "Pierre", "lastname": "Chevalier"}, "member_type": "referent",
             "started_at": "2026-11-01T09:00:00+00:00"}]}),
        SubjectDataSection(service="notify", key="messages", title="Messages qui vous ont été envoyés", data=[]),
    ])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Seine-Saint-Denis", "Mes données personnelles", "Sophie Tifour — données détenues au 29/11/2026",
                     "Identité, coordonnées et droits", "Prénom : Sophie", "Date de naissance : 12/04/1990",
                     "Droit RSA : Droit ouvert et suspendu", "- courriel", "- SMS", "Nom : Chevalier",
                     "Rôle : Référent", "Depuis le : 01/11/2026 à 10:00",
                     "Messages qui vous ont été envoyés\nAucune donnée."):
        assert expected in text, expected
    assert "8f2ac9de" not in text and "Complément d'adresse" not in text
