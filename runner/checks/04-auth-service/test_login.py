"""POST /auth/login: the OAuth2 password form, as the web app and the API clients send it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.security import utcnow


def form(email: str, password: str) -> dict:
    return {"username": email, "password": password}


async def test_login_gives_tokens(client, seed, stored_token, read_user):
    """Login with the right password gives 200, an access token that works and a stored refresh token"""
    org = await seed()
    before = utcnow() - timedelta(seconds=1)

    response = await client.post("/auth/login", data=form(org.user.email, org.user.password))

    assert response.status_code == 200, (
        f"the right email and password should sign in (200); the login answered {response.status_code}: "
        f"{response.text[:200]}"
    )
    body = response.json()
    assert body.get("token_type") == "bearer" and body.get("access_token") and body.get("refresh_token"), (
        f"the login should answer a bearer access token and a refresh token; it answered {sorted(body)}"
    )
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json().get("email") == org.user.email, (
        f"the access token from the login should open /users/me as {org.user.email}; "
        f"it got {me.status_code}: {me.text[:200]}"
    )
    stored = await stored_token(body["refresh_token"])
    assert stored is not None and stored.user_id == org.user.id, (
        "the refresh token from the login is not in the database for that user: the login's commit did not happen"
    )
    assert stored.revoked_at is None and stored.expires_at > utcnow() + timedelta(days=1), (
        "the new refresh token should be live for its full lifetime; the database has it "
        f"revoked at {stored.revoked_at}, expiring at {stored.expires_at}"
    )
    user = await read_user(org.user.id)
    assert user.last_login_at is not None and user.last_login_at >= before, (
        f"the login should record when the user signed in; the database has last_login_at = {user.last_login_at}"
    )


async def test_login_names_the_organisation(client, seed):
    """The login response carries the user's organisation"""
    org = await seed()

    response = await client.post("/auth/login", data=form(org.user.email, org.user.password))

    assert response.status_code == 200, f"the login answered {response.status_code}: {response.text[:200]}"
    user = response.json().get("user") or {}
    assert user.get("id") == org.user.id and user.get("email") == org.user.email, (
        f"the response should describe the user who signed in ({org.user.email}); it has {user}"
    )
    assert user.get("organisation") == org.user.organisation, (
        f"the response should name the user's organisation {org.user.organisation}; it has {user.get('organisation')}"
    )


BAD_CREDENTIALS = {
    "a wrong password": lambda org: form(org.user.email, "not the password"),
    "an unknown email": lambda org: form(f"nobody@{org.slug}.example", org.user.password),
    "a deactivated account": lambda org: form(org.inactive.email, org.inactive.password),
}


@pytest.mark.parametrize("case", BAD_CREDENTIALS)
async def test_bad_credentials_give_401(case, client, seed, count_tokens, read_user):
    """Login with {case} gives 401 and no token"""
    org = await seed()
    tokens_before = await count_tokens()

    response = await client.post("/auth/login", data=BAD_CREDENTIALS[case](org))

    assert response.status_code == 401, (
        f"a login with {case} should be refused with 401; it answered {response.status_code}: {response.text[:200]}"
    )
    assert "access_token" not in response.text, f"a login with {case} must not hand out an access token"
    assert await count_tokens() == tokens_before, f"a login with {case} must not store a refresh token"
    assert (await read_user(org.user.id)).last_login_at is None, (
        f"a login with {case} must not record a sign-in for {org.user.email}"
    )
