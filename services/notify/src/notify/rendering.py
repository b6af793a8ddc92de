"""All message templates live in ``templates/``: ``<name>.subject.j2``, ``<name>.txt.j2``, ``<name>.html.j2``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    links: list[str]


def render_email(name: str, *, links: list[str], **context) -> RenderedEmail:
    subject = _environment.get_template(f"{name}.subject.j2").render(**context).strip()
    return RenderedEmail(
        subject=subject,
        text=_environment.get_template(f"{name}.txt.j2").render(**context),
        html=_environment.get_template(f"{name}.html.j2").render(subject=subject, **context),
        links=links,
    )
