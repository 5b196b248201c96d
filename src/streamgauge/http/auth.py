"""Who a request comes from: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``.

With no keys configured at all, the server only runs on a loopback address
(checked at start) and every request is the admin of project ``default``.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from streamgauge.errors import Forbidden, Unauthorized
from streamgauge.keys import KeyStore
from streamgauge.scope import KeyScope, Principal

DEFAULT_PROJECT = "default"
DEV_PRINCIPAL = Principal(project_id=DEFAULT_PROJECT, scope=KeyScope.ADMIN)


def key_from_headers(request: Request) -> str | None:
    """The key in ``Authorization`` (Bearer, or Basic with the key as user) or ``X-API-Key``."""
    header = request.headers.get("authorization")
    if header:
        kind, _, value = header.partition(" ")
        kind = kind.lower()
        if kind == "bearer" and value.strip():
            return value.strip()
        if kind == "basic":
            try:
                user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                raise Unauthorized("Authorization: Basic must be base64 of 'KEY:'") from None
            return user or None
        raise Unauthorized("use 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
    return request.headers.get("x-api-key") or None


def authenticate(keys: KeyStore, key: str | None) -> Principal:
    if not keys.has_keys():
        return DEV_PRINCIPAL
    if key is None:
        raise Unauthorized(
            "an API key is required: send 'Authorization: Bearer KEY' "
            "(create one with `streamgauge keys create`)"
        )
    principal = keys.authenticate(key)
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    return principal


def require_ingest(principal: Principal) -> Principal:
    if not principal.can_ingest:
        raise Forbidden(f"a {principal.scope.value} key cannot send events; use a write key")
    return principal


def require_query(principal: Principal) -> Principal:
    if not principal.can_query:
        raise Forbidden(f"a {principal.scope.value} key cannot query; use a read key")
    return principal
