"""Emails' HTML escapes what the sender typed (a name, a structure), and only the HTML: the subject, the text
part and SMS are plain text and keep it as typed."""
from __future__ import annotations

import pytest

from contracts.notify import Channel
from notify.rendering import render_email, render_sms
from notify.samples import SAMPLES

pytestmark = pytest.mark.unit

HOSTILE = "\"><b id=injected>x</b><meta http-equiv=refresh content='0'>"
ESCAPED = "&lt;b id=injected&gt;"


def hostile(value):
    """The sample's context with every string replaced by the hostile one, in lists and dicts too."""
    if isinstance(value, str):
        return HOSTILE
    if isinstance(value, dict):
        return {key: hostile(item) for key, item in value.items()}
    if isinstance(value, list):
        return [hostile(item) for item in value]
    return value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_html_is_escaped_and_text_is_not(name):
    channel, sample = SAMPLES[name]
    context = hostile(sample)
    if channel == Channel.sms:
        rendered = render_sms(name, **context)
        assert rendered.html is None
    else:
        rendered = render_email(name, links=[context["link"]] if "link" in context else [], **context)
        html = rendered.html.lower()
        assert "<b id=injected" not in html and "<meta http-equiv" not in html
        assert ESCAPED in html
    assert HOSTILE in rendered.text, "the text part or the SMS shows what was typed, as typed"
    for part in (rendered.subject, rendered.text):
        assert "&lt;" not in part and "&#" not in part and "&gt;" not in part
