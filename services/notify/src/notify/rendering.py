"""All message templates live in ``templates/``: ``<name>.subject.j2``, ``<name>.txt.j2``, ``<name>.html.j2``
for an email, ``<name>.sms.j2`` for an SMS (kept to the GSM alphabet and under 160 characters)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    """Made at the first message, not at start: an idle notify does not carry Jinja (issue 19 item 4)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        # Names ending in ``.html.j2`` (the emails' HTML) escape what they print; subjects, text parts and SMS are
        # plain text, where an escaped "&amp;" would show as such (tests/test_template_escaping.py checks both).
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    links: list[str]


def render_email(name: str, *, links: list[str], **context) -> Rendered:
    subject = _environment().get_template(f"{name}.subject.j2").render(**context).strip()
    return Rendered(
        subject=subject,
        text=_environment().get_template(f"{name}.txt.j2").render(**context),
        html=_environment().get_template(f"{name}.html.j2").render(subject=subject, **context),
        links=links,
    )


def render_sms(name: str, **context) -> Rendered:
    return Rendered(subject="SMS", text=_environment().get_template(f"{name}.sms.j2").render(**context).strip(),
                    html=None, links=[])
