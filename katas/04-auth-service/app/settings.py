"""Settings, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    # One URL for the whole app, the async driver's (there used to be one per driver).
    database_url: str = "sqlite+aiosqlite:///./auth.db"
    secret_key: str = "dev-only-secret-change-me"  # signs access tokens
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    password_iterations: int = 600_000  # PBKDF2-SHA256 for new hashes; old hashes keep theirs
    # The web app lives on another site than the API, so the refresh cookie has to
    # cross sites: SameSite=None, which browsers only accept on Secure cookies.
    cookie_samesite: str = "none"
    cookie_secure: bool = True

    def refresh_cookie_settings(self) -> dict:
        """Keyword arguments for Response.set_cookie: the same everywhere the cookie is set."""
        return {
            "httponly": True,
            "secure": self.cookie_secure,
            "samesite": self.cookie_samesite,
            "path": "/auth",  # only the auth routes ever need to see it
            "max_age": self.refresh_token_days * 24 * 3600,
        }


@cache
def get_settings() -> Settings:
    env = os.environ
    defaults = Settings()
    return Settings(
        database_url=env.get("KATAS_DATABASE_URL", defaults.database_url),
        secret_key=env.get("AUTH_SECRET_KEY", defaults.secret_key),
    )
