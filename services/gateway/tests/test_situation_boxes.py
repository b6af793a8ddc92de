"""The diagnostic form's situations are rendered once per version of the referentials and set of ticked boxes, then
kept (issue 19): the same markup as rendered on every view, escaped, ticked as the notebook's diagnostic says."""
from __future__ import annotations

import uuid

import pytest

from contracts.notebook import ReferentialItem, Referentials
from gateway.web import notebook_pages
from gateway.web.common import templates
from gateway.web.notebook_pages import situation_boxes

pytestmark = pytest.mark.unit

INLINE = '''{% for theme, items in referentials.situations|groupby("theme") %}<h4>{{ referentials.themes.get(theme, theme) }}</h4>
  {% for s in items %}<div class="checkbox"><input type="checkbox" id="s-{{ s.id }}" name="situation_ids" value="{{ s.id }}" {% if s.id|string in checked %}checked{% endif %}><label for="s-{{ s.id }}">{{ s.description }}</label></div>{% endfor %}
  {% endfor %}'''  # noqa: E501 — what _notebook_parcours.html.j2 rendered on every view before


def referentials(version: str = "v1", description: str = "Sans logement") -> Referentials:
    items = [ReferentialItem(id=uuid.UUID(int=i), theme=theme, description=f"{description} {i}")
             for i, theme in enumerate(["logement", "sante", "logement", "mobilite"], start=1)]
    return Referentials(themes={"logement": "Logement", "sante": "Santé"}, focus_themes=[], target_themes={},
                        situations=items, targets=[], actions=[], version=version)


def test_the_boxes_are_the_markup_rendered_on_every_view_before():
    refs, checked = referentials(), {str(uuid.UUID(int=3))}

    boxes = situation_boxes(refs, checked)

    assert str(boxes) == templates.env.from_string(INLINE).render(referentials=refs, checked=checked)
    assert str(boxes).count("checked>") == 1 and f'value="{uuid.UUID(int=3)}" checked' in boxes
    assert boxes.index("Logement") < boxes.index("mobilite") < boxes.index("Santé")  # by theme, as groupby sorts


def test_the_boxes_are_kept_per_version_and_ticked_set():
    notebook_pages.SITUATION_BOXES.clear()
    refs = referentials("v2")
    first = situation_boxes(refs, {str(uuid.UUID(int=1))})

    assert situation_boxes(refs, {str(uuid.UUID(int=1))}) is first
    assert situation_boxes(refs, set()) is not first and "checked>" not in situation_boxes(refs, set())
    changed = referentials("v3", description="Hébergé")
    assert "Hébergé 1" in situation_boxes(changed, {str(uuid.UUID(int=1))})  # a new version is rendered anew


def test_a_description_is_escaped():
    boxes = situation_boxes(referentials("v4", description='<b id=injected>"'), set())

    assert "<b id=injected" not in boxes and "&lt;b id=injected&gt;&#34;" in boxes


def test_the_least_recently_shown_sets_are_forgotten(monkeypatch):
    notebook_pages.SITUATION_BOXES.clear()
    monkeypatch.setattr(notebook_pages, "SITUATION_BOXES_KEPT", 2)
    refs = referentials("v5")
    situation_boxes(refs, {"a"})
    situation_boxes(refs, {"b"})
    situation_boxes(refs, {"a"})  # shown again: kept before {"b"}
    situation_boxes(refs, {"c"})

    assert [set(checked) for _, checked in notebook_pages.SITUATION_BOXES] == [{"a"}, {"c"}]
