"""The notebook's « Orienter » form (issue 20 item 5), in steps that work without JavaScript: the orientation
system first, then only the structures that offer it, then only the professionals of that structure who hold it.
The choices travel in the query string (``or_dispositif``, ``or_structure``, ``or_referent``, ``or_motif``), so that
each step and each refusal is a page that can be reloaded (post, then redirect here). Every option is rendered with
what it offers (data attributes): static/orientation_form.js filters in place, and hides the step buttons. The
notebook page shows a link « Orienter » (``?orienter=1``) until the form is opened: the territory's structures and
professionals, a département's thousands, are read and rendered then, not on every view of the page.

A refused combination is named by its real cause — the structure lacks the system, or the professional does —
which the gateway reads from the annuaire (the structures' systems) and the territory's options (the people's)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from contracts.bulk_orientation import GetTerritoryOrientationOptionsV1
from contracts.notebook import OrientationOptions
from gateway.web.common import Visitor, call_or_leave
from gateway.web.territory_structures import every_structure

PARAMS = ("or_dispositif", "or_structure", "or_referent", "or_motif")
OPEN_ORIENTATION = "orienter"  # ?orienter=1: the form opened (« Orienter »), before any choice
REASON_LIMIT = 2000
STRUCTURE_WITHOUT_SYSTEM = "La structure {structure} ne propose pas le dispositif {system}."
REFERENT_WITHOUT_SYSTEM = "Le professionnel {person} n'a pas le dispositif {system}."
REFERENT_ELSEWHERE = "Le professionnel {person} ne travaille pas dans la structure {structure}."
CHOOSE_SYSTEM = "Choisissez le dispositif d'accompagnement."
CHOOSE_STRUCTURE = "Choisissez la structure qui suivra le bénéficiaire."
UNKNOWN_CHOICE = "Ce choix n'existe plus sur le territoire : choisissez à nouveau."


@dataclass
class Option:
    value: str
    label: str
    shown: bool  # offered for the choices made so far (otherwise rendered hidden and disabled, for the script)
    selected: bool = False
    systems: str = ""     # data-systems: the orientation systems it offers or holds, space-separated
    structures: str = ""  # data-structures (a professional): where they work


@dataclass
class OrientationForm:
    systems: list[Option] = field(default_factory=list)
    structures: list[Option] = field(default_factory=list)
    referents: list[Option] = field(default_factory=list)
    reason: str = ""
    chosen: bool = False  # a step was taken: the form is shown unfolded
    error: str = ""


def choices_of(values) -> dict[str, str]:
    """The form's choices from a query string or a posted form, as text (a bad id is simply not chosen)."""
    chosen = {name: str(values.get(name, "") or "").strip()[:REASON_LIMIT if name == "or_motif" else 40]
              for name in PARAMS}
    for name in PARAMS[:3]:
        try:
            chosen[name] = str(uuid.UUID(chosen[name])) if chosen[name] else ""
        except ValueError:
            chosen[name] = ""
    return chosen


def step_url(base: str, chosen: dict[str, str], *, refused: bool = False) -> str:
    """Where a step or a refusal redirects: the notebook with the choices kept, at its orientation section."""
    query = {name: value for name, value in chosen.items() if value}
    if refused:
        query["or_refus"] = "1"
    return f"{base}?{urlencode(query)}#orientation"


async def territory_choices(request: Request, visitor: Visitor) -> OrientationOptions:
    """The territory's orientation systems, structures and professionals: what an orientation form offers (the
    notebook's, the list's decision in bulk), asked when one is opened or posted."""
    return (await call_or_leave(request, visitor, GetTerritoryOrientationOptionsV1())).options


async def structure_systems(request: Request, visitor: Visitor) -> dict[str, set[str]]:
    """Each active structure of the visitor's territory and the orientation systems it offers (the annuaire's),
    as the gateway holds them since an earlier page (gateway.web.structure_offers), else asked and held. An app
    that follows no events (built without its lifespan, as in tests) asks every time."""
    offers = getattr(request.app.state, "structure_offers", None)
    deployment = visitor.me.deployment_id if offers is not None else None
    if deployment is not None and (held := offers.get(deployment)) is not None:
        return held
    generation = offers.generation if deployment is not None else 0
    offered = {str(s.structure_id): {str(o.orientation_system_id) for o in s.orientation_systems}
               for s in await every_structure(request, visitor)}
    if deployment is not None:
        offers.keep(deployment, offered, generation)
    return offered


def refusal_of(options: OrientationOptions, offered: dict[str, set[str]], chosen: dict[str, str]) -> str:
    """Why these choices cannot orient, naming what is missing and whose; "" when they can."""
    systems = {str(s.orientation_system_id): s.name for s in options.orientation_systems}
    structures = {str(s.structure_id): s.name for s in options.structures}
    people = {str(p.person_id): p for p in options.referents}
    system, structure, referent = chosen["or_dispositif"], chosen["or_structure"], chosen["or_referent"]
    if not system:
        return CHOOSE_SYSTEM
    if not structure:
        return CHOOSE_STRUCTURE
    if system not in systems or structure not in structures or (referent and referent not in people):
        return UNKNOWN_CHOICE
    if system not in offered.get(structure, set()):
        return STRUCTURE_WITHOUT_SYSTEM.format(structure=structures[structure], system=systems[system])
    if referent:
        person = people[referent]
        if structure not in works_in(person):
            return REFERENT_ELSEWHERE.format(person=person.name, structure=structures[structure])
        if system not in {str(s) for s in person.orientation_system_ids}:
            return REFERENT_WITHOUT_SYSTEM.format(person=person.name, system=systems[system])
    return ""


def works_in(person) -> set[str]:
    return {str(s) for s in person.structure_ids} or ({str(person.structure_id)} if person.structure_id else set())


def orientation_form(options: OrientationOptions, offered: dict[str, set[str]], chosen: dict[str, str], *,
                     suggested_system: str = "", refused: bool = False) -> OrientationForm:
    """The three lists, each option marked as offered or not for the choices made; the refusal recomputed from
    the choices when the page comes back from one."""
    system = chosen["or_dispositif"] or suggested_system
    structure, referent = chosen["or_structure"], chosen["or_referent"]
    form = OrientationForm(reason=chosen["or_motif"], chosen=any(chosen.values()))
    form.systems = [Option(str(s.orientation_system_id), s.name, True, str(s.orientation_system_id) == system)
                    for s in options.orientation_systems]
    for s in options.structures:
        value = str(s.structure_id)
        systems = offered.get(value, set())
        form.structures.append(Option(value, s.name, bool(system) and system in systems, value == structure,
                                      systems=" ".join(sorted(systems))))
    for p in options.referents:
        value, places = str(p.person_id), works_in(p)
        holds = {str(s) for s in p.orientation_system_ids}
        shown = bool(system and structure) and system in holds and structure in places
        form.referents.append(Option(value, p.name, shown, value == referent, systems=" ".join(sorted(holds)),
                                     structures=" ".join(sorted(places))))
    if refused:
        form.error = refusal_of(options, offered, {**chosen, "or_dispositif": system})
    # A choice the user made stays selectable even when it no longer fits (the refusal says why).
    for option in (*form.structures, *form.referents):
        option.shown = option.shown or option.selected
    return form
