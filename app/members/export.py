"""Bulk export: the client's members as CSV, streamed page by page (client_user and client_admin
export members).

Memory stays flat whatever the size: one Convex page (100 members) is held at a time. The
export is bounded by `EXPORT_MAX_ROWS`; a client with more members narrows it with `status`.
The first page is read before the answer starts, so a refusal is still a proper problem; the
export itself is recorded in the audit log before the first row leaves.
"""

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from app.deps import ActorGateway, requires
from app.http.problems import READ_ERRORS
from app.http.routing import DomainRoute
from app.members.schemas import MemberStatus
from app.services import services_of

router = APIRouter(prefix="/v1/clients/{client}", tags=["members"], route_class=DomainRoute)

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanExportMembers = Annotated[ActorGateway, requires("members.export")]


COLUMNS = ["id", "firstName", "lastName", "email", "phone", "status", "cpdPoints", "createdAt", "updatedAt"]


PAGE_SIZE = 100


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportTooLarge(Exception):
    """Raised mid-stream: the server ends the transfer without its last chunk, which every HTTP
    client reports as an incomplete body rather than a short file."""


def safe_cell(value: Any) -> str:
    """A cell as text that no spreadsheet will run: a leading formula character is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


async def member_pages(convex: ActorGateway, status: str | None) -> AsyncIterator[list[dict[str, Any]]]:
    cursor = None
    while True:
        args: dict[str, Any] = {"page": {"numItems": PAGE_SIZE, "cursor": cursor}}
        if status is not None:
            args["status"] = status
        result = await convex.query("members:exportPage", args)
        yield result["page"]
        if result.get("isDone", True):
            return
        cursor = result["continueCursor"]


@router.get(
    "/exports/members",
    operation_id="exportMembers",
    summary="Export members as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "RFC 4180 CSV with a header row, UTF-8, CRLF line ends, streamed.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": csv_line(COLUMNS)}},
        },
        **READ_ERRORS,
    },
)
async def export_members(
    request: Request, convex: CanExportMembers, status_: Annotated[MemberStatus | None, Query(alias="status")] = None
) -> StreamingResponse:
    """Streams every member of the client (or those with one `status`) as CSV, in name order, for
    spreadsheets and mailing tools. Cells that a spreadsheet would run as a formula are prefixed with
    `'`. Bounded: when an export passes the deployment's limit (50 000 rows by default) the transfer is
    cut before its end, so no partial file looks complete; narrow it with `status`. Each export is
    recorded in the audit log (`member.export`)."""
    max_rows = services_of(request).settings.export_max_rows
    status = status_
    pages = member_pages(convex, status)
    first = await anext(pages)  # refusals (403, 404, upstream) happen before the answer starts
    await convex.mutation("members:recordExport", {"status": status} if status else {})

    async def rows() -> AsyncIterator[str]:
        yield csv_line(COLUMNS)
        sent = 0
        page: list[dict[str, Any]] | None = first
        while page is not None:
            if sent + len(page) > max_rows:
                raise ExportTooLarge(f"member export cut at {max_rows} rows (EXPORT_MAX_ROWS)")
            for member in page:
                yield csv_line([member.get(column) for column in COLUMNS])
            sent += len(page)
            page = await anext(pages, None)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"members-{request.path_params['client']}-{status or 'all'}-{stamp}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
