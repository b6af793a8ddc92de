"""Page forms parsed by the JSON API's body models: a form post becomes the same model, checked by the same rules,
as the JSON body of the matching ``/api/v1`` route, so a page and the API cannot drift apart.

What a form sends differs from JSON in a few ways, undone here before validation: every value is text, trimmed;
an empty field means « not given » (the model's default, None for an optional date or choice, « … est obligatoire »
for a required date, number or choice), except a text the model requires, sent as "" for the model or the service
to say what is missing (« Écrivez un message ») as it does for a JSON body; a checkbox is present (« oui », « on »)
or absent; a field repeated (checkboxes sharing a name) is a list; a nested model (``BeneficiaryChange.beneficiary``)
reads its fields from the same flat form; a field with an alias is read by its alias, or by its name where the model
accepts both (``populate_by_name``). A broken rule is a ``pydantic.ValidationError``, which ``refusal()``
says in French.
"""
from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.datastructures import FormData

M = TypeVar("M", bound=BaseModel)
CHECKED = {"oui", "on", "true", "1"}


def _bare(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, …]`` as ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            others = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(others) != 1:
                return annotation
            annotation = others[0]
        else:
            return annotation


def _optional(annotation: Any) -> bool:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and type(None) in typing.get_args(annotation)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def form_values(form: FormData | dict, model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """The form's fields that ``model`` reads, as its JSON body would give them (see the module's docstring); each
    named ``prefix`` + its name where one form holds two models' fields (the list's « bulk_ » orientation)."""
    values: dict[str, Any] = {}
    by_name = bool(model.model_config.get("populate_by_name"))
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key != name and by_name and prefix + key not in form and prefix + name in form:
            key = name  # a model that takes its field by name too (ExportAsked's « list » is « list_name » in forms)
        typed = prefix + key
        annotation = _bare(field.annotation)
        if _is_model(annotation):
            values[key] = form_values(form, annotation, prefix)
        elif typing.get_origin(annotation) is list:
            items = form.getlist(typed) if isinstance(form, FormData) else form.get(typed, [])
            items = [str(item).strip() for item in (items if isinstance(items, list) else [items])]
            if any(items):
                values[key] = [item for item in items if item]
        elif annotation is bool:
            if typed in form:
                values[key] = str(form[typed]).strip().lower() in CHECKED
        else:
            value = str(form.get(typed, "")).strip()
            if value or (typed in form and annotation is str and not _optional(field.annotation)):
                values[key] = value  # a required text left blank is "", for the model or the service to refuse
    return values


def parse_form(form: FormData | dict, model: type[M], *, prefix: str = "", **given: Any) -> M:
    """``model`` from the form (its fields named ``prefix`` + their names), ``given`` values (those the page
    computes or takes from its address) first; a given None is not given (the form's field, or the model's
    default)."""
    values = form_values(form, model, prefix)
    return model.model_validate({**values, **{k: v for k, v in given.items() if v is not None}})


async def form_body(request, model: type[M], **given: Any) -> M:
    """The posted form as ``model``, the JSON body model of the API route that does the same."""
    return parse_form(await request.form(), model, **given)
