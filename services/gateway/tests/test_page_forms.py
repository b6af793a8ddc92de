"""Page forms are parsed by the JSON API's body models (gateway.web.forms): what a form sends (text, empty fields,
checkboxes, repeated names, a flat form for a nested model) becomes the same model as the JSON body, and a broken
rule is said in French, field by field."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.directory import CreatePersonV1, CreateStructureV1, PersonRole
from contracts.notebook import UpdateBeneficiaryV1
from gateway.api.notebooks import BeneficiaryChange, NewAppointment, NewTarget
from gateway.web import notebook_pages
from gateway.web.common import refusal
from gateway.web.forms import form_values, parse_form

pytestmark = pytest.mark.unit


def test_empty_fields_are_not_given_checkboxes_are_booleans_and_repeated_names_lists():
    form = FormData([("version", " 3 "), ("firstname", " Sophie "), ("lastname", "Tifour"),
                     ("date_of_birth", "1982-02-01"), ("right_rsa", ""), ("rsa_closure_date", ""),
                     ("right_are", "oui"), ("subject_to_right_and_duty", "on"),
                     ("notification_channels", "sms"), ("notification_channels", "email")])
    change = parse_form(form, BeneficiaryChange)
    b = change.beneficiary
    assert change.version == 3 and (b.firstname, b.lastname, b.date_of_birth) == ("Sophie", "Tifour", date(1982, 2, 1))
    assert b.right_rsa is None and b.rsa_closure_date is None and b.email == ""
    assert b.right_are and b.subject_to_right_and_duty and not b.right_ass  # an unticked box is not sent
    assert [c.value for c in b.notification_channels] == ["sms", "email"]


def test_the_page_sends_the_message_the_api_builds_from_the_same_json_body():
    notebook_id = uuid.uuid4()
    json_body = {"version": 3, "beneficiary": {"firstname": "Sophie", "lastname": "Tifour",
                                               "date_of_birth": "1982-02-01", "right_are": True}}
    api = UpdateBeneficiaryV1(notebook_id=notebook_id, **dict(BeneficiaryChange.model_validate(json_body)))
    form = FormData([("version", "3"), ("firstname", "Sophie"), ("lastname", "Tifour"),
                     ("date_of_birth", "1982-02-01"), ("right_are", "oui"), ("email", "")])
    page = notebook_pages.ACTIONS["informations"][2](notebook_id, form)
    assert page == api


def test_a_broken_rule_is_said_in_french_naming_each_field():
    form = FormData([("version", "x"), ("firstname", "So\x00phie"), ("lastname", ""), ("date_of_birth", "")])
    with pytest.raises(ValidationError) as refused:
        parse_form(form, BeneficiaryChange)
    assert refusal(refused.value).message == (
        "La version doit être un nombre entier. Le prénom contient des caractères de contrôle. "
        "La date de naissance est obligatoire.")
    # A required text left blank is "", as in a JSON body, for the service to say what it expects.
    assert parse_form(FormData([("target", " ")]), NewTarget).target == ""


def test_values_the_page_computes_come_first_and_none_is_not_given():
    assert parse_form(FormData([("target", "Trouver un emploi")]), NewTarget, target=None).target == "Trouver un emploi"
    assert parse_form(FormData([("target", "x")]), NewTarget, target="Libre").target == "Libre"
    with pytest.raises(ValidationError) as refused:
        parse_form(FormData([("day", "")]), NewAppointment, at=notebook_pages.appointment_at(FormData([("day", "")])))
    assert refusal(refused.value).message == "La date du rendez-vous est obligatoire."


def test_territory_forms_nest_flat_fields_and_keep_lists_of_ids():
    systems = [str(uuid.uuid4()), str(uuid.uuid4())]
    structure = parse_form(FormData([("name", "CCAS"), ("sensitive", "oui"), ("postal_code", "93190"),
                                     *(("orientation_system_ids", s) for s in systems)]), CreateStructureV1)
    assert structure.structure.sensitive and [str(i) for i in structure.structure.orientation_system_ids] == systems
    person = parse_form(FormData([("firstname", "Paul"), ("lastname", "Pro"), ("email", "paul@exemple.fr"),
                                  ("role", ""), ("structure_ids", "")]), CreatePersonV1, role=PersonRole.professional)
    assert person.role == PersonRole.professional and person.person.email == "paul@exemple.fr"
    assert person.structure_ids == [] and "structure_ids" not in form_values(FormData([("structure_ids", "")]),
                                                                           CreatePersonV1)


def test_a_prefixed_decision_reads_its_own_fields_from_a_shared_form():
    """The list's one form holds « Rattacher »'s referent_id and the bulk decision's bulk_referent_id."""
    from gateway.api.bulk_orientation import BulkOrientation

    system, structure, mine, other = (str(uuid.uuid4()) for _ in range(4))
    form = FormData([("referent_id", other), ("bulk_orientation_system_id", system), ("bulk_structure_id", structure),
                     ("bulk_referent_id", mine), ("bulk_reason", " Motif ")])
    notebook = uuid.uuid4()
    decision = parse_form(form, BulkOrientation, prefix="bulk_", notebook_ids=[notebook])
    assert (str(decision.referent_id), decision.reason, decision.notebook_ids) == (mine, "Motif", [notebook])
    with pytest.raises(ValidationError) as refused:
        parse_form(FormData([("bulk_structure_id", "x")]), BulkOrientation, prefix="bulk_", notebook_ids=[notebook])
    assert refusal(refused.value).message == ("Le dispositif est obligatoire. "
                                              "La structure n'est pas un identifiant valide.")


def test_the_diagnostic_projects_come_from_their_numbered_blocks_with_the_rate_in_cents():
    form = FormData([("version", "2"), ("right_rqth", "oui"), ("project_0_present", "1"),
                     ("project_0_rome_code", "Boulanger"), ("project_0_hourly_rate", "12,50"),
                     ("project_0_mobility_radius_km", "10"), ("project_1_present", "1"), ("project_1_remove", "oui")])
    change = notebook_pages.diagnostic_change(form)
    assert change.diagnostic.right_rqth and len(change.diagnostic.projects) == 1
    project = change.diagnostic.projects[0]
    assert (project.rome_code, project.hourly_rate_cents, project.mobility_radius_km) == ("Boulanger", 1250, 10)
    with pytest.raises(ValidationError) as refused:
        notebook_pages.diagnostic_change(FormData([("version", "2"), ("project_0_present", "1"),
                                                   ("project_0_hourly_rate", "douze")]))
    assert refusal(refused.value).message == "Le salaire horaire doit être un nombre entier."


def test_every_field_of_a_json_body_has_its_french_label(monkeypatch):
    """Page forms are parsed by the API's body models: a refusal names the field, in French, as the page says it
    (« La date de fin est obligatoire. »), never by its code (« Le champ « until » »). Every JSON body of the API,
    as its OpenAPI document lists them, nested objects included."""
    from contracts.inputs import FIELD_LABELS
    from gateway.main import create_app

    monkeypatch.setenv("CARNET_ENV", "test")
    document = create_app().openapi()
    schemas = document["components"]["schemas"]

    def is_object(schema: dict) -> bool:  # a nested body (« beneficiary ») is named by its own fields
        return any("properties" in schemas[part["$ref"].rsplit("/", 1)[1]]
                   for part in (schema, *schema.get("anyOf", ())) if "$ref" in part)

    def fields_of(schema: dict, seen: set) -> set[str]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return set() if name in seen else fields_of(schemas[name], seen | {name})
        found = {name for name, field in schema.get("properties", {}).items() if not is_object(field)}
        for part in (*schema.get("properties", {}).values(), *schema.get("anyOf", ()), *schema.get("allOf", ()),
                     *([schema["items"]] if isinstance(schema.get("items"), dict) else [])):
            found |= fields_of(part, seen)
        return found

    # The partners' API names its fields in camelCase and documents its own messages (docs/partners.md).
    bodies = [operation["requestBody"]["content"]["application/json"]["schema"]
              for address, path in document["paths"].items() for operation in path.values()
              if "application/json" in operation.get("requestBody", {}).get("content", {})
              and not address.startswith("/api/v1/partners/")]
    assert len(bodies) > 50
    assert sorted(set().union(*(fields_of(body, set()) for body in bodies)) - set(FIELD_LABELS)) == []
