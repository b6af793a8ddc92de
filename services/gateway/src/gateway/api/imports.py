"""File imports (spec §4.1), answered by the import service: upload a file, follow it, review its rows, apply it,
download its report; and the templates to fill in.

The uploaded file never sits whole in the gateway: the multipart body is parsed as it arrives and the file part
streamed into the object store (``servicekit.objects.put_stream``), one chunk in memory at a time. Reports and
templates come back the same way. The pages' upload form goes through ``receive_import`` too.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from contracts.imports import (
    MAX_PAGE,
    MAX_UPLOAD_BYTES,
    UPLOADS_BUCKET,
    ApplyImportV1,
    FinishUploadV1,
    GetImportReportV1,
    GetImportTemplateV1,
    GetImportV1,
    ImportKind,
    ImportObjectReply,
    ImportRowsReply,
    ImportsReply,
    ImportView,
    ListImportRowsV1,
    ListImportsV1,
    OpenImportV1,
    ReviewStatus,
)
from contracts.inputs import MAX_OFFSET
from gateway.auth.session import COOKIE_ORIGIN_CHECK, access_token_for, call_as_caller
from gateway.bus import call
from servicekit.errors import Invalid, NotFound, ServiceError
from servicekit.objects import TooLarge, bucket, put_stream, read_stream

router = APIRouter(prefix="/api/v1/imports", tags=["imports"], dependencies=COOKIE_ORIGIN_CHECK)

FILE_FIELD = "file"
# The form's other fields (a CSRF token, a structure id) are short: more is not a form of ours.
FIELD_BYTES = 4096
MAX_FIELDS = 20
# Boundaries and part headers around the file: a Content-Length beyond the limit plus this is too large for sure.
MULTIPART_OVERHEAD = 64 * 1024
# After a refusal, the rest of a body up to this is read and dropped before answering: a browser still sending
# when the connection closes shows a network error instead of the page that says why.
DISCARD_BYTES = 1024 * 1024
NO_FILE = "Joignez le fichier à importer (champ « file » d'un formulaire multipart/form-data)."
NOT_MULTIPART = "Envoyez le fichier dans un formulaire multipart/form-data, dans le champ « file »."
MALFORMED = "Le formulaire envoyé est mal formé : le fichier n'a pas pu être lu. Recommencez l'envoi."
INCOMPLETE = "Le fichier est arrivé incomplet : l'envoi a été interrompu. Recommencez."
INTERRUPTED = "L'envoi du fichier a été interrompu."
GONE = "Ce fichier n'est plus disponible : les fichiers d'import et leurs rapports sont gardés 7 jours."
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FILE_FIELD],
    "properties": {FILE_FIELD: {"type": "string", "format": "binary",
                                "description": "Le fichier CSV ou XLSX (50 Mo au plus)."}}}}}}}


def size_label(size: int) -> str:
    return f"{size / 1024 ** 2:.3g} Mo".replace(".", ",") if size >= 1024 ** 2 else f"{max(size // 1024, 1)} Ko"


def too_large_message(max_bytes: int) -> str:
    return (f"Le fichier dépasse la taille maximale de {size_label(max_bytes)} : découpez-le en plusieurs fichiers ou "
            "retirez-en les colonnes inutiles.")


# --- the multipart body, parsed as it arrives --------------------------------------------------------------

@dataclass
class PartStart:
    name: str
    filename: str | None  # None for a plain field


PART_END = object()


def multipart_boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise Invalid(NOT_MULTIPART)
    return options[b"boundary"]


def part_start(headers: dict[bytes, bytes]) -> PartStart:
    _disposition, options = parse_options_header(headers.get(b"content-disposition", b""))
    filename = options.get(b"filename")
    return PartStart(name=options.get(b"name", b"").decode("utf-8", "replace"),
                     filename=None if filename is None else filename.decode("utf-8", "replace"))


async def multipart_events(request: Request) -> AsyncIterator[PartStart | bytes | object]:
    """The body as ``PartStart``, data pieces and ``PART_END``, in order, as the body's chunks arrive:
    python-multipart's streaming parser calls back synchronously for each chunk written to it, and the events are
    handed on at once."""
    boundary = multipart_boundary(request)
    events: list = []
    headers: dict[bytes, bytes] = {}
    header_name, header_value = bytearray(), bytearray()

    def header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    parser = MultipartParser(boundary, {
        "on_part_begin": headers.clear,
        "on_header_field": lambda data, start, end: header_name.extend(data[start:end]),
        "on_header_value": lambda data, start, end: header_value.extend(data[start:end]),
        "on_header_end": header_end,
        "on_headers_finished": lambda: events.append(part_start(headers)),
        # A copy: the parser's buffer is the request's chunk, gone with the next one.
        "on_part_data": lambda data, start, end: events.append(bytes(data[start:end])),
        "on_part_end": lambda: events.append(PART_END),
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            ready = events[:]
            events.clear()
            for event in ready:
                yield event
        parser.finalize()
    except MultipartParseError:
        raise Invalid(MALFORMED) from None
    for event in events:
        yield event


async def fields_before_file(events: AsyncIterator) -> tuple[dict[str, str], PartStart | None]:
    """The plain fields sent before the file, and the file part's start (its data is next in ``events``)."""
    fields: dict[str, str] = {}
    name, value = None, bytearray()
    async for event in events:
        if isinstance(event, PartStart):
            if event.name == FILE_FIELD and event.filename is not None:
                return fields, event
            if len(fields) >= MAX_FIELDS:
                raise Invalid(MALFORMED)
            name, value = event.name, bytearray()
        elif event is PART_END:
            if name is not None:
                fields[name] = value.decode("utf-8", "replace")
            name = None
        elif name is not None:
            value += event
            if len(value) > FIELD_BYTES:
                raise Invalid(MALFORMED)
    return fields, None


async def file_data(events: AsyncIterator) -> AsyncIterator[bytes]:
    """The file part's data, up to its end; a body that stops before is an interrupted upload."""
    async for event in events:
        if event is PART_END:
            return
        if isinstance(event, bytes):
            yield event
    raise Invalid(INCOMPLETE)


async def discard(events: AsyncIterator, limit: int = DISCARD_BYTES) -> None:
    """Reads what is left of the body, up to ``limit`` bytes, and drops it."""
    dropped = 0
    try:
        async for event in events:
            dropped += len(event) if isinstance(event, bytes) else 0
            if dropped > limit:
                return
    except Exception:  # noqa: BLE001  (a malformed or broken rest changes nothing: the answer is already known)
        return


def clean_filename(raw: str) -> str:
    """What the uploader's system called the file, without its folders (old browsers send them) or controls."""
    name = re.split(r"[\\/]", raw)[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", name).strip()[:255]


# --- upload --------------------------------------------------------------------------------------------------

async def upload_store(request: Request, name: str = UPLOADS_BUCKET):
    """A bucket (``uploads``, or ``exports`` that the notebook fills) on the gateway's own connection, looked up
    once."""
    stores = request.app.state.__dict__.setdefault("object_stores", {})
    if name not in stores:
        stores[name] = await bucket(request.app.state.bus.stream_context, name)
    return stores[name]


def declared_too_large(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD


async def receive_import(request: Request, kind: ImportKind, token: str, structure_id: uuid.UUID | None = None, *,
                         read_fields: Callable[[dict[str, str]], uuid.UUID | None] | None = None) -> ImportView:
    """Opens the import (the import service checks the caller may import ``kind``), streams the body's file part
    into the object store, and says so to the import service, which starts parsing. ``read_fields`` (the pages)
    checks the fields sent before the file (their CSRF token) and may name the structure.

    Over the size limit, or if the upload breaks, the import is closed as failed with the reason and nothing is
    left in the store."""
    if declared_too_large(request):
        raise TooLarge(too_large_message(MAX_UPLOAD_BYTES), details={"max_bytes": MAX_UPLOAD_BYTES})
    events = multipart_events(request)
    try:
        fields, file_part = await fields_before_file(events)
        if read_fields is not None:
            structure_id = read_fields(fields) or structure_id
        filename = clean_filename(file_part.filename) if file_part else ""
        if not filename:
            raise Invalid(NO_FILE, details={"fields": {FILE_FIELD: NO_FILE}})
        opened = await call(request, OpenImportV1(kind=kind, filename=filename, structure_id=structure_id),
                            access_token=token)
        try:
            await put_stream(await upload_store(request), opened.object_name, file_data(events),
                             max_bytes=opened.max_bytes, too_large_message=too_large_message(opened.max_bytes))
        except Exception as failure:
            reason = failure.message if isinstance(failure, ServiceError) else INTERRUPTED
            await call(request, FinishUploadV1(import_id=opened.import_id, error=reason[:500]), access_token=token)
            raise
    finally:
        await discard(events)
        await events.aclose()
    return await call(request, FinishUploadV1(import_id=opened.import_id), access_token=token)


# --- files streamed back --------------------------------------------------------------------------------------

class FileFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def attachment(filename: str) -> str:
    """Content-Disposition naming the file: an ASCII fallback, and the exact name for browsers that read it."""
    name = clean_filename(filename).replace('"', "") or "fichier"
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def stream_object(request: Request, found: ImportObjectReply,
                        cookies: Response | None = None, bucket_name: str = UPLOADS_BUCKET) -> StreamingResponse:
    """The object a service left in the store, sent as it is read; absent (expired) is a 404.
    ``cookies``: a renewed session's cookies, which FastAPI does not copy onto a response a route returns."""
    store = await upload_store(request, bucket_name)
    try:
        info = await store.get_info(found.object_name)
    except NotFoundError:
        raise NotFound(GONE) from None
    streamed = StreamingResponse(read_stream(store, found.object_name), media_type=found.content_type, headers={
        "Content-Disposition": attachment(found.filename), "Content-Length": str(info.size),
        "Cache-Control": "no-store"})
    if cookies is not None:
        streamed.raw_headers.extend((name, value) for name, value in cookies.raw_headers if name == b"set-cookie")
    return streamed


# --- routes ----------------------------------------------------------------------------------------------------

class Exclusions(BaseModel):
    exclude_rows: list[int] = Field(default_factory=list, max_length=200_000,
                                    description="Numéros de ligne (l'en-tête est la ligne 1) à ne pas appliquer.")


@router.get("/templates/{kind}.{file_format}", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                  "spreadsheetml.sheet": {}}}})
async def download_template(kind: ImportKind, file_format: FileFormat, request: Request,
                            response: Response) -> StreamingResponse:
    """The file to fill in for ``kind``: its header line, mandatory columns marked with ``*``."""
    found = await call_as_caller(request, response, GetImportTemplateV1(kind=kind, format=file_format.value))
    return await stream_object(request, found, response)


@router.post("/{kind}", status_code=status.HTTP_202_ACCEPTED, response_model=ImportView, openapi_extra=UPLOAD_BODY,
             responses={413: {"description": "Fichier trop volumineux (50 Mo au plus)."}})
async def upload(kind: ImportKind, request: Request, response: Response,
                 structure_id: uuid.UUID | None = None) -> ImportView:
    """Uploads a CSV or XLSX file (multipart field ``file``) to import ``kind``; its rows are then read and
    reviewed (state ``parsing``, then ``review``). ``structure_id``: the structure professionals and
    rattachements are for, when the caller has several."""
    token = await access_token_for(request, response)
    return await receive_import(request, kind, token, structure_id)


@router.get("", response_model=ImportsReply)
async def list_imports(request: Request, response: Response, kind: ImportKind | None = None,
                       limit: int = Query(50, ge=1, le=200)) -> ImportsReply:
    """The imports of the caller's territory or structures, newest first."""
    return await call_as_caller(request, response, ListImportsV1(kind=kind, limit=limit))


@router.get("/{import_id}", response_model=ImportView)
async def get_import(import_id: uuid.UUID, request: Request, response: Response) -> ImportView:
    """State, progress (rows done, rows per second, time left), review counts, then outcome counts."""
    return await call_as_caller(request, response, GetImportV1(import_id=import_id))


@router.get("/{import_id}/rows", response_model=ImportRowsReply)
async def list_rows(import_id: uuid.UUID, request: Request, response: Response,
                    review_status: ReviewStatus | None = Query(None, alias="status"),
                    offset: int = Query(0, ge=0, le=MAX_OFFSET),
                    limit: int = Query(100, ge=1, le=MAX_PAGE)) -> ImportRowsReply:
    """The reviewed rows, in file order: values as written, what they matched, messages in French."""
    return await call_as_caller(request, response, ListImportRowsV1(
        import_id=import_id, status=review_status, offset=offset, limit=limit))


@router.post("/{import_id}/apply", status_code=status.HTTP_202_ACCEPTED, response_model=ImportView)
async def apply_import(import_id: uuid.UUID, body: Exclusions, request: Request, response: Response) -> ImportView:
    """Applies every ``new`` and ``same`` row but the excluded ones; the import goes on (state ``applying``)."""
    return await call_as_caller(request, response, ApplyImportV1(import_id=import_id, exclude_rows=body.exclude_rows))


@router.get("/{import_id}/report.{file_format}", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                  "spreadsheetml.sheet": {}}}})
async def download_report(import_id: uuid.UUID, file_format: FileFormat, request: Request,
                          response: Response) -> StreamingResponse:
    """Every row with its outcome and messages, errors first."""
    found = await call_as_caller(request, response, GetImportReportV1(import_id=import_id, format=file_format.value))
    return await stream_object(request, found, response)
