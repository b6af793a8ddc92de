"""SMTP delivery through aiosmtplib; tells transient failures (retry) from permanent ones."""
from __future__ import annotations

from email.message import EmailMessage

from notify.config import NotifySettings


class PermanentFailure(Exception):
    pass


class TransientFailure(Exception):
    pass


async def send_email(settings: NotifySettings, *, to: str, subject: str, text: str, html: str | None,
                     message_id: str) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}@carnet-de-bord>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    import aiosmtplib  # at the first e-mail, not at start (~1 MB of an idle process, issue 19 item 4)

    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPResponseException as exc:
        # 5xx: the server will never take it (unknown mailbox, refused content); 4xx: try again later.
        if 500 <= exc.code < 600:
            raise PermanentFailure(f"{exc.code} {exc.message}") from exc
        raise TransientFailure(f"{exc.code} {exc.message}") from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(str(exc)) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientFailure(str(exc) or type(exc).__name__) from exc
