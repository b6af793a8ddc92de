"""Double-submit CSRF token for every form post: a random cookie repeated in a hidden field."""
from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from servicekit.errors import Forbidden

CSRF_COOKIE = "carnet_csrf"


def csrf_token(request: Request, response: Response) -> str:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies, path="/")
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("Le formulaire a expiré. Rechargez la page et recommencez.")
