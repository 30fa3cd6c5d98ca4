"""Console sessions over HTTP: the signed cookie, the session check and the CSRF check.

The cookie holds a random session id and its HMAC (CONSOLE_SECRET_KEY, else a key made once in
var/); it is HttpOnly, SameSite=Strict, Secure in production, and expires with the session. Every
/api/ path but the login needs a live session (401); every change also needs the session's CSRF
token in X-CSRF-Token (403). The login itself accepts JSON only, which no cross-site form can send.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from pos_assistant.console.accounts import Account, AccountStore
from pos_assistant.settings import VAR_DIR

COOKIE_NAME = "pa_console"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_API_PATHS = frozenset({"/api/login"})
DEFAULT_KEY_FILE = VAR_DIR / "console-secret.key"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def read_or_create_secret(path: Path = DEFAULT_KEY_FILE) -> bytes:
    """The per-install signing key, created (readable by this user only) when there is none."""
    if path.is_file():
        return path.read_text(encoding="ascii").strip().encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".console-key-")
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    os.chmod(temporary, 0o600)
    try:
        os.link(temporary, path)  # first writer wins; later ones read the same key
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    return path.read_text(encoding="ascii").strip().encode("ascii")


class CookieSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _signature(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def sign(self, session_id: str) -> str:
        return f"{session_id}.{self._signature(session_id)}"

    def unsign(self, cookie: str | None) -> str | None:
        if not cookie or "." not in cookie:
            return None
        session_id, _, signature = cookie.rpartition(".")
        try:
            expected = self._signature(session_id)
        except UnicodeEncodeError:
            return None
        return session_id if hmac.compare_digest(expected, signature) else None


def set_session_cookie(
    response: web.StreamResponse, signer: CookieSigner, session_id: str, max_age: int, secure: bool
) -> None:
    response.set_cookie(
        COOKIE_NAME,
        signer.sign(session_id),
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")


def error(status: int, code: str, **extra: object) -> web.Response:
    return web.json_response({"error": code, **extra}, status=status)


def account_of(request: web.Request) -> Account:
    return request["account"]


def auth_middleware(accounts: AccountStore, signer: CookieSigner) -> Callable:
    @web.middleware
    async def check_session(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/") or request.path in PUBLIC_API_PATHS:
            return await handler(request)
        session_id = signer.unsign(request.cookies.get(COOKIE_NAME))
        found = await asyncio.to_thread(accounts.session, session_id) if session_id else None
        if found is None:
            return error(401, "not_logged_in")
        account, csrf_token = found
        if request.method not in SAFE_METHODS and not accounts.csrf_matches(
            csrf_token, request.headers.get(CSRF_HEADER)
        ):
            return error(403, "csrf_token_missing_or_wrong")
        request["account"] = account
        request["session_id"] = session_id
        request["csrf_token"] = csrf_token
        return await handler(request)

    return check_session


def require_lead(request: web.Request) -> web.Response | None:
    """403 unless the caller is a lead (routes call this first)."""
    return None if account_of(request).is_lead else error(403, "lead_only")
