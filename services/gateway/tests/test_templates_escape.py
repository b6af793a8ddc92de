"""Every page template escapes what it prints: each one is rendered with a hostile string in every value it
reads (attributes, items, loops, calls), and none of that string's markup comes back as markup.

The folder is listed, so a new template is covered without touching this test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import meta

from gateway.web import formatting
from gateway.web.common import templates

pytestmark = pytest.mark.unit

TEMPLATES = Path(templates.env.loader.searchpath[0])
HOSTILE = '"><b id=injected>x</b><meta http-equiv=refresh content=0>'
RAW = ("<b id=injected", "<meta http-equiv")
ESCAPED = "&lt;b id=injected&gt;"


class Hostile:
    """A value that answers whatever a template asks of it (attribute, item, call, comparison, arithmetic,
    loop: two items, so that ``for key, label in x.items()`` unpacks) and prints as the hostile string.
    ``agreeable`` decides comparisons and ``in`` (so both sides of ``{% if role == "manager" %}`` are seen),
    ``truthy`` decides ``{% if x %}``. Names starting with ``_`` stay missing: ``__html__`` must not exist, or
    markupsafe would trust the value."""

    def __init__(self, agreeable: bool, truthy: bool):
        self._agreeable, self._truthy = agreeable, truthy

    def _same(self, *_args, **_kwargs) -> Hostile:
        return Hostile(self._agreeable, self._truthy)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._same()

    __getitem__ = __call__ = _same
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _same
    __floordiv__ = __mod__ = __neg__ = _same

    def __iter__(self):
        return iter([self._same(), self._same()])

    def __len__(self) -> int:
        return 2

    def __str__(self) -> str:
        return HOSTILE

    def __format__(self, _spec: str) -> str:
        return HOSTILE

    def __bool__(self) -> bool:
        return self._truthy

    def __eq__(self, _other) -> bool:
        return self._agreeable

    def __ne__(self, _other) -> bool:
        return not self._agreeable

    __lt__ = __le__ = __gt__ = __ge__ = __contains__ = __eq__
    __hash__ = object.__hash__

    def __float__(self) -> float:
        return 1.0

    def __int__(self) -> int:
        return 1

    __index__ = __int__


def names_read(name: str, seen: set[str] | None = None) -> set[str]:
    """The variables a template reads, with those of the templates it extends or includes."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    source = templates.env.loader.get_source(templates.env, name)[0]
    tree = templates.env.parse(source)
    names = meta.find_undeclared_variables(tree)
    for other in meta.find_referenced_templates(tree):
        if other:
            names |= names_read(other, seen)
    return names


# The pages' own environment (escaping, filters, globals); only the phone filter, which hands its value to a
# parser of strings, gets the hostile value as the string it prints.
ENV = templates.env.overlay()
ENV.filters = {**templates.env.filters, "telephone": lambda value: formatting.phone(
    str(value) if isinstance(value, Hostile) else value)}

PAGES = sorted(path.name for path in TEMPLATES.glob("*.html.j2"))


def test_the_folder_holds_the_pages():
    assert len(PAGES) > 20 and "beneficiaries.html.j2" in PAGES and "accounts.html.j2" in PAGES


@pytest.mark.parametrize("name", PAGES)
def test_every_value_a_template_prints_is_escaped(name):
    names = names_read(name) - set(templates.env.globals)
    escaped_somewhere = False
    for agreeable in (False, True):
        for truthy in (True, False):
            context = {variable: Hostile(agreeable, truthy) for variable in names}
            html = ENV.get_template(name).render(context).lower()
            for raw in RAW:
                assert raw not in html, f"{name} prints markup unescaped (agreeable={agreeable}, truthy={truthy})"
            escaped_somewhere |= ESCAPED in html
    assert escaped_somewhere or not names, f"{name} never printed the hostile value: is the test still reaching it?"


def test_no_template_opts_out_of_escaping():
    for path in TEMPLATES.glob("*.j2"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b", source), f"{path.name} marks a value safe"
        assert not re.search(r"{%-?\s*autoescape\s+false", source), f"{path.name} turns escaping off"
