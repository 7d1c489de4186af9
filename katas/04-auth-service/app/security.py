"""Passwords and tokens, on the standard library alone.

Password hashes are stored as ``pbkdf2_sha256$<iterations>$<salt>$<hash>``, so
raising the iteration count later leaves existing hashes verifiable. Access
tokens are short-lived and signed (HMAC-SHA256): any service holding the key
can check one without the database. Refresh tokens are random and opaque; the
database keeps their SHA-256, so a leaked table holds no usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timezone

ALGORITHM = "pbkdf2_sha256"


def utcnow() -> datetime:
    """Naive UTC, the way the models store time."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_password(password: str, iterations: int) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{ALGORITHM}${iterations}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    if algorithm != ALGORITHM:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def create_access_token(user_id: int, organisation_id: int, key: str, minutes: int) -> str:
    payload = {"sub": user_id, "org": organisation_id, "exp": int(time.time()) + minutes * 60}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_access_token(token: str, key: str) -> dict | None:
    """The token's claims, or None if it is forged, damaged or expired."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        return None
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    return claims if claims.get("exp", 0) > time.time() else None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
