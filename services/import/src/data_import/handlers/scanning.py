"""Scanning an uploaded file with the antivirus before anything reads it (issue 21).

The file is streamed from the object store to clamd and to a temporary file at once (one read of the object);
only a clean verdict lets the parser open that file. An infected file, or one the antivirus could not scan, ends
the import ``failed`` with a French reason, its object is deleted from the store, and the verdict is kept in
``upload_scans`` (an infected file also in the audit trail). Without a scanner configured, uploads are refused,
except in dev (``make run`` on a machine without clamd) where the file is read unscanned and a warning logged.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256
from pathlib import Path

import structlog
from nats.js.errors import NotFoundError
from sqlalchemy import delete, insert, select

from contracts.audit import ImportAuditRecordedV1
from data_import.adapters.orm import imports, upload_scans
from data_import.config import DataImportSettings
from data_import.handlers.deps import Deps
from servicekit.antivirus import Clamd, ScannerUnavailable
from servicekit.errors import Unavailable
from servicekit.objects import read_stream

log = structlog.get_logger("data_import.scanning")

NO_SCANNER = ("Les fichiers ne peuvent pas être importés pour l'instant : aucun antivirus n'est configuré pour les "
              "analyser. Prévenez l'administrateur de la plateforme.")
SCANNER_DOWN = ("L'antivirus est indisponible : le fichier n'a pas pu être analysé et n'a pas été lu. Réessayez "
                "dans quelques minutes.")


def infected_message(signature: str) -> str:
    return f"Le fichier contient un virus ({signature}) : il a été refusé et n'a pas été lu."


class ScanVerdict(StrEnum):
    clean = "clean"
    infected = "infected"
    error = "error"  # the antivirus could not say: the file is not read
    unscanned = "unscanned"  # dev without a scanner


@dataclass(frozen=True)
class Downloaded:
    verdict: ScanVerdict
    fingerprint: str  # SHA-256 of the file
    size: int
    signature: str | None = None

    @property
    def readable(self) -> bool:
        return self.verdict in (ScanVerdict.clean, ScanVerdict.unscanned)

    @property
    def refusal(self) -> str:
        return infected_message(self.signature or "inconnu") if self.verdict == ScanVerdict.infected else SCANNER_DOWN


def scanner_required(settings: DataImportSettings) -> bool:
    """Outside dev, a file is never read unscanned."""
    return settings.env != "dev"


def refuse_unscannable(settings: DataImportSettings) -> None:
    """Raised when an import opens: no scanner outside dev, and the file would be refused once sent."""
    if not settings.clamd_socket and scanner_required(settings):
        raise Unavailable(NO_SCANNER)


async def download_scanned(deps: Deps, object_name: str, path: Path, import_id: uuid.UUID) -> Downloaded:
    """Copies the object into ``path`` while clamd scans it, and records the verdict. ``NotFoundError`` and
    ``ValueError`` (a digest that does not match) come from the object store, as a plain download's would."""
    settings = deps.settings
    store = await deps.store()
    digest, size = sha256(), 0
    if not settings.clamd_socket:
        # Reached in dev only: elsewhere the import could not open (``refuse_unscannable``).
        with path.open("wb") as file:
            async for chunk in read_stream(store, object_name):
                digest.update(chunk)
                size += len(chunk)
                file.write(chunk)
        downloaded = Downloaded(ScanVerdict.unscanned, digest.hexdigest(), size)
        log.warning("upload_not_scanned", import_id=str(import_id), reason="DATA_IMPORT_CLAMD_SOCKET not set (dev)")
    else:
        try:
            async with Clamd(settings.clamd_socket, settings.clamd_timeout_s).scan() as scan:
                with path.open("wb") as file:
                    async for chunk in read_stream(store, object_name):
                        digest.update(chunk)
                        size += len(chunk)
                        await scan.send(chunk)
                        file.write(chunk)
                verdict = await scan.verdict()
        except ScannerUnavailable as error:
            downloaded = Downloaded(ScanVerdict.error, digest.hexdigest(), size)
            log.error("upload_scan_failed", import_id=str(import_id), error=str(error))
        else:
            if verdict.infected:
                downloaded = Downloaded(ScanVerdict.infected, digest.hexdigest(), size, verdict.signature)
                log.warning("upload_infected", import_id=str(import_id), signature=verdict.signature,
                            sha256=downloaded.fingerprint, size=size)
            else:
                downloaded = Downloaded(ScanVerdict.clean, digest.hexdigest(), size)
    if not downloaded.readable:
        path.unlink(missing_ok=True)
        try:
            await store.delete(object_name)  # nobody downloads a refused file, not even its uploader
        except NotFoundError:  # deleted by a previous try of this parse
            pass
    await record(deps, import_id, downloaded)
    return downloaded


async def record(deps: Deps, import_id: uuid.UUID, downloaded: Downloaded) -> None:
    """The verdict of this import's file; a parse started over scans again and keeps the last verdict. An infected
    file is also a line of the audit trail, in the same transaction (the outbox)."""
    async with deps.sessions() as session, session.begin():
        if downloaded.verdict == ScanVerdict.infected:
            job = (await session.execute(select(imports).where(imports.c.id == import_id))).one()
            await deps.outbox.add(session, ImportAuditRecordedV1(
                deployment_id=job.deployment_id, actor_account_id=job.account_id,
                actor_role=(job.actor or {}).get("role", ""), action="import.file_infected", target_type="import",
                target_id=str(import_id), details={"kind": job.kind, "signature": downloaded.signature or ""}))
        await session.execute(delete(upload_scans).where(upload_scans.c.import_id == import_id))
        await session.execute(insert(upload_scans).values(
            import_id=import_id, verdict=downloaded.verdict.value, signature=downloaded.signature,
            # A scan that did not end read part of the file only: that part's digest would name no file.
            size=downloaded.size, sha256=None if downloaded.verdict == ScanVerdict.error else downloaded.fingerprint,
            scanned_at=deps.clock()))
