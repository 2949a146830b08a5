"""The website widget's endpoints: a visitor is created right before its first message
(never by a page view: bots and crawlers create nothing), and exchanges its credential or
its identity for a short-lived token afterwards. The token never travels in a URL: the
widget sends it in the Socket.IO `auth` payload and `Authorization: Bearer`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, status

from soporte_auth.deps import Codec, Names, PerAddressRate, Settings, Sites, Visitors
from soporte_auth.identity import Identity, IdentityError, verify_identity
from soporte_auth.schemas import (
    NewVisitorBody,
    SiteSummary,
    VisitorSession,
    VisitorSessionBody,
)
from soporte_auth.settings import AuthSettings
from soporte_auth.sites import SiteStore
from soporte_auth.visitors import Visitor, VisitorStore, anonymous_name
from soporte_common.contract import ErrorCode
from soporte_common.logging import get_logger
from soporte_common.tokens import TokenCodec
from soporte_common.web import ApiError, CurrentAdmin, error_responses

router = APIRouter(prefix="/api/auth")
log = get_logger(__name__)

# The shortest token a verified visitor gets, however soon its identity expires.
MIN_TOKEN_SECONDS = 60
IDENTITY_REFUSED = "the identity is refused: `error` says why"


async def _identity(sites: SiteStore, sitio: str, token: str) -> Identity:
    secrets = await sites.identity_secrets(sitio)
    if secrets is None:
        raise ApiError(404, ErrorCode.SITE_UNKNOWN)
    try:
        return verify_identity(token, secrets)
    except IdentityError as exc:
        log.info("visitor identity refused", sitio=sitio, motivo=str(exc))
        raise ApiError(401, ErrorCode.IDENTITY_INVALID, f"Identidad rechazada: {exc}") from exc


async def _verified(
    visitors: VisitorStore, names: Names, sitio: str, identity: Identity, *, create: bool
) -> Visitor | None:
    # A company's user may be called anything, but never what passes for the team.
    nombre = identity.name
    if names.imitated_by_display_name(nombre):
        nombre = anonymous_name(f"v-{identity.sub}")
    return await visitors.verified(sitio, identity, nombre, create=create)


def _session(
    visitor: Visitor, codec: TokenCodec, settings: AuthSettings, identity: Identity | None
) -> VisitorSession:
    ttl = settings.visitor_token_ttl_seconds
    if identity is not None:  # never outlives the identity it was given for
        ttl = min(ttl, max(MIN_TOKEN_SECONDS, identity.exp - int(time.time())))
    token, claims = codec.issue(
        user=visitor.usuario,
        nombre=visitor.nombre,
        rol="user",
        ttl_seconds=ttl,
        sitio=visitor.sitio,
    )
    return VisitorSession(
        usuario=visitor.usuario,
        nombre=visitor.nombre,
        token=token,
        expira=claims.exp,
        credencial=visitor.credencial,
        verificado=visitor.verificado,
        email=visitor.email,
    )


@router.post(
    "/visitantes",
    status_code=status.HTTP_201_CREATED,
    dependencies=[PerAddressRate],
    responses=error_responses(
        {
            401: IDENTITY_REFUSED,
            404: "no such site",
            422: "a field is missing or not valid",
            429: "too many registrations, logins or visitor creations from this address",
            503: "Redis or Postgres is unreachable: retry",
        }
    ),
)
async def create_visitor(
    body: NewVisitorBody,
    sites: Sites,
    visitors: Visitors,
    names: Names,
    codec: Codec,
    settings: Settings,
) -> VisitorSession:
    """A visitor about to send its first message: a new anonymous one (with the credential
    the widget keeps), or, with an identity, the site's user it names (created once)."""
    if body.identidad is not None:
        identity = await _identity(sites, body.sitio, body.identidad)
        visitor = await _verified(visitors, names, body.sitio, identity, create=True)
        assert visitor is not None  # created when missing
        return _session(visitor, codec, settings, identity)
    if await sites.get(body.sitio) is None:
        raise ApiError(404, ErrorCode.SITE_UNKNOWN)
    visitor = await visitors.create_anonymous(body.sitio)
    log.info("anonymous visitor created", usuario=visitor.usuario, sitio=body.sitio)
    return _session(visitor, codec, settings, None)


@router.post(
    "/visitantes/sesion",
    responses=error_responses(
        {
            401: IDENTITY_REFUSED,
            404: "no such site, or no such visitor yet (it has not written): nothing is created",
            422: "a field is missing or not valid, or both or neither of credencial and identidad",
            503: "Redis or Postgres is unreachable: retry",
        }
    ),
)
async def visitor_session(
    body: VisitorSessionBody,
    sites: Sites,
    visitors: Visitors,
    names: Names,
    codec: Codec,
    settings: Settings,
) -> VisitorSession:
    """A fresh token for a visitor that exists: by its credential (anonymous) or its
    identity (verified). A verified visitor who never wrote gets 404 and nothing is made."""
    identity = None
    if body.identidad is not None:
        identity = await _identity(sites, body.sitio, body.identidad)
        visitor = await _verified(visitors, names, body.sitio, identity, create=False)
    else:
        assert body.credencial is not None  # one of the two, by the body's validation
        if await sites.get(body.sitio) is None:
            raise ApiError(404, ErrorCode.SITE_UNKNOWN)
        visitor = await visitors.by_credential(body.sitio, body.credencial)
    if visitor is None:
        raise ApiError(404, ErrorCode.VISITOR_UNKNOWN)
    return _session(visitor, codec, settings, identity)


@router.get("/sitios", responses=error_responses({401: "not signed in", 403: "agents only"}))
async def list_sites(_: CurrentAdmin, sites: Sites) -> list[SiteSummary]:
    """Agents only: the sites whose widget talks to the team (the list's site filter)."""
    return [
        SiteSummary(sitio=s.sitio, nombre=s.nombre, origenes=s.origenes) for s in await sites.all()
    ]
