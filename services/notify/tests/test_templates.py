"""Every template renders with its sample data exactly as reviewed (snapshots), in French, without personal
data in subjects, with SMS in the GSM alphabet and under 160 characters.

After a deliberate wording change: ``UPDATE_SNAPSHOTS=1 make test PYTEST_ARGS=services/notify``, then review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from contracts.notify import Channel
from notify.samples import SAMPLES, render_sample

pytestmark = pytest.mark.unit
TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "notify" / "templates"
SNAPSHOTS = Path(__file__).parent / "snapshots"
GSM_7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def test_every_template_has_sample_data():
    names = {path.name.split(".")[0] for path in TEMPLATES.glob("*.j2") if not path.name.startswith("_")}
    assert names == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rendering_matches_its_reviewed_snapshot(name):
    rendered = render_sample(name)
    current = f"Objet : {rendered.subject}\n\n{rendered.text}"
    snapshot = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(current, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot for {name}: render it with UPDATE_SNAPSHOTS=1 and review it"
    assert current == snapshot.read_text(encoding="utf-8"), f"{name} changed: review, then UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_subjects_carry_no_personal_data_and_links_point_to_pages(name):
    channel, context = SAMPLES[name]
    rendered = render_sample(name)
    personal = [v for k, v in context.items() if k in ("firstname", "lastname", "email", "invited_by", "structure")]
    assert not any(str(value) in rendered.subject for value in personal)
    if channel == Channel.email:
        assert rendered.html and '<html lang="fr">' in rendered.html
        assert all(link in rendered.text and link in rendered.html for link in rendered.links)


def test_sms_fit_one_message_in_the_gsm_alphabet():
    for name, (channel, _context) in SAMPLES.items():
        if channel == Channel.sms:
            text = render_sample(name).text
            assert len(text) <= 160 and set(text) <= GSM_7, text
