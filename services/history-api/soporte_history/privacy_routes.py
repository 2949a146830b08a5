"""Privacy and audit endpoints: a customer's data exported (agents: anyone's; a customer:
their own) or erased (agents), and the audit trail (agents). Every export and erasure an
agent makes is recorded in the trail before it is answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime

from soporte_common import audit, keys
from soporte_common.contract import AuditAction, ErrorCode
from soporte_common.text import PRINTABLE_PATTERN, USERNAME_PATTERN
from soporte_common.web import ApiError
from soporte_history.audit_log import AuditFilter, audit_page
from soporte_history.deps import (
    CurrentAdmin,
    CurrentUser,
    DbDep,
    EraserDep,
    RedisDep,
    SettingsDep,
    SettledDbDep,
)
from soporte_history.erasure import ErasureUnfinishedError, NotACustomerError, anything_to_erase
from soporte_history.export import export, holds_anything
from soporte_history.schemas import AuditPage, ExportDocument, error_responses
from soporte_history.stream_status import wait_until_settled

router = APIRouter(prefix="/api")

PAGE_DEFAULT = 50
PAGE_MAX = 200
Username = Annotated[str, Path(pattern=USERNAME_PATTERN, description="the customer's username")]
UNKNOWN = "Ese cliente no existe"
AGENTS_ARE_NOT_ERASED = "Solo se borran clientes: las cuentas de agentes las gestiona un operador"
UNFINISHED = (
    "El borrado ha empezado pero no ha terminado (el historial va atrasado): repítelo; "
    "mientras, no se acepta nada de ese cliente"
)


def _attachment(response: Response, usuario: str) -> None:
    """The browser saves the document instead of showing it."""
    response.headers["Content-Disposition"] = f'attachment; filename="soporte-{usuario}.json"'


@router.get("/usuarios/{usuario}/exportar", responses=error_responses(401, 403, 404, 422, 503))
async def export_customer(
    usuario: Username,
    claims: CurrentAdmin,
    db: SettledDbDep,
    redis: RedisDep,
    response: Response,
) -> ExportDocument:
    """Agents only: everything Soporte holds about a customer, as one JSON document
    (recorded in the audit trail)."""
    document = await export(db, redis, usuario, own=False)
    if not holds_anything(document):
        raise ApiError(404, ErrorCode.NOT_FOUND, UNKNOWN)
    await audit.record(redis, claims.user, AuditAction.EXPORT, usuario)
    _attachment(response, usuario)
    return document


@router.get(
    "/mensajes/mios/exportar",
    response_model_exclude_unset=True,
    responses=error_responses(401, 503),
)
async def export_own(
    claims: CurrentUser, db: SettledDbDep, redis: RedisDep, response: Response
) -> ExportDocument:
    """The caller's own data: their account, their conversation's messages (never a note),
    their read marks, and what else Soporte keeps about them."""
    document = await export(db, redis, claims.user, own=True)
    _attachment(response, claims.user)
    return document


@router.delete(
    "/usuarios/{usuario}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def erase_customer(
    usuario: Username, claims: CurrentAdmin, db: DbDep, redis: RedisDep, eraser: EraserDep
) -> None:
    """Agents only: erase a customer everywhere (docs/operations.md, "Privacy requests"):
    afterwards Soporte answers as if they never existed. Recorded in the audit trail,
    without anything that was erased."""
    if not await anything_to_erase(db, redis, usuario):
        raise ApiError(404, ErrorCode.NOT_FOUND, UNKNOWN)
    try:
        await eraser.erase(usuario, agente=claims.user)
    except NotACustomerError as exc:
        raise ApiError(403, ErrorCode.FORBIDDEN, AGENTS_ARE_NOT_ERASED) from exc
    except ErasureUnfinishedError as exc:
        raise ApiError(
            503, ErrorCode.UNAVAILABLE, UNFINISHED, headers={"Retry-After": "5"}
        ) from exc


@router.get("/auditoria", responses=error_responses(401, 403, 422, 503))
async def audit_trail(
    _: CurrentAdmin,
    db: DbDep,
    redis: RedisDep,
    settings: SettingsDep,
    agente: Annotated[str | None, Query(pattern=USERNAME_PATTERN)] = None,
    accion: AuditAction | None = None,
    objetivo: Annotated[str | None, Query(max_length=200, pattern=PRINTABLE_PATTERN)] = None,
    desde: Annotated[AwareDatetime | None, Query(description="from (inclusive)")] = None,
    hasta: Annotated[AwareDatetime | None, Query(description="until (exclusive)")] = None,
    antes: Annotated[int | None, Query(ge=1, description="the page after this event")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
) -> AuditPage:
    """Agents only: the audit trail, newest first, filtered by agent, action, target and
    time. What was done before the request is in the answer."""
    streams = (keys.STREAM, keys.AUDIT_STREAM)
    if not await wait_until_settled(redis, settings.settle_timeout_seconds, streams):
        raise ApiError(503, ErrorCode.HISTORY_BEHIND, headers={"Retry-After": "2"})
    where = AuditFilter(agente=agente, accion=accion, objetivo=objetivo, desde=desde, hasta=hasta)
    return await audit_page(db, where, before=antes, limit=limit)
