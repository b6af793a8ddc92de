"""An import ended → the summary to its uploader (spec §3.13): for the CAF/MSA flux, "Récapitulatif suite à l'import
du fichier CAF/MSA du <date>" with what it did, or why it failed (v1 stopped silently on a bad file: never again).

The event carries the uploader's address and the counts (event-carried state): nothing is asked of anyone."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from contracts.imports import ImportCompletedV1, ImportKind, ImportState
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit.consumers import EventMeta

CONSUMER = "notify-import-summaries"
PARIS = ZoneInfo("Europe/Paris")
# Kinds whose uploader gets a summary: the partners' flux, processed while nobody watches the page.
SUMMARIES = {ImportKind.caf_msa: "caf_msa_report"}


def summary_context(event: ImportCompletedV1) -> dict:
    """What the template says: the flux's date (the import's day when the file said none), then the counts."""
    day = event.flux_date or event.occurred_at.astimezone(PARIS).date()
    counts, review = event.counts, event.review
    # Rows the review found no one for are rejected when the import is applied, like the invalid ones: told apart.
    return {"date": f"{day:%d/%m/%Y}", "filename": event.filename, "failed": event.state == ImportState.failed,
            "reason": event.reason, "total": event.rows_total, "updated": counts.updated,
            "unchanged": counts.unchanged, "not_found": review.conflict,
            "errors": max(counts.rejected - review.conflict, review.invalid), "excluded": counts.excluded}


async def on_import_completed(event: ImportCompletedV1, _meta: EventMeta, deps: Deps) -> None:
    template = SUMMARIES.get(event.kind)
    messages = []
    if template and event.account_email:
        link = page_url(deps, f"/imports/{event.import_id}")
        email = render_email(template, links=[link], link=link, **summary_context(event))
        messages.append(Outgoing(template, Channel.email, event.account_email, email))
    await queue_once(deps, CONSUMER, event.event_id, messages)
