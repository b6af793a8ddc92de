"""SMS through a Brevo-compatible transactional SMS API over HTTPS (httpx); tells transient failures (retry:
network, 429, 5xx) from permanent ones (other 4xx: a wrong number, a bad key)."""
from __future__ import annotations

from notify.adapters.smtp import PermanentFailure, TransientFailure
from notify.config import NotifySettings


async def send_sms(settings: NotifySettings, *, to: str, text: str, reference: str) -> None:
    payload = {"sender": settings.sms_sender, "recipient": to.lstrip("+"), "content": text,
               "type": "transactional", "tag": reference}
    import httpx  # at the first SMS, not at start: an idle notify does not carry the HTTP client (issue 19 item 4)

    try:
        async with httpx.AsyncClient(base_url=settings.sms_api_url, timeout=settings.sms_timeout_s) as client:
            answer = await client.post("/v3/transactionalSMS/sms", json=payload,
                                       headers={"api-key": settings.sms_api_key.get_secret_value(),
                                                "accept": "application/json"})
    except httpx.HTTPError as error:
        raise TransientFailure(f"fournisseur SMS injoignable : {type(error).__name__}") from error
    if answer.status_code == 429 or answer.status_code >= 500:
        raise TransientFailure(f"fournisseur SMS : {answer.status_code} {answer.text[:200]}")
    if answer.status_code >= 400:
        raise PermanentFailure(f"SMS refusé par le fournisseur : {answer.status_code} {answer.text[:200]}")
