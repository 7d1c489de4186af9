"""POST /auth/refresh: a refresh token in, a new pair of tokens out; each refresh token works once."""

from __future__ import annotations

import pytest

from app.security import utcnow


async def test_refresh_gives_new_tokens(client, seed, stored_token):
    """Refresh with a live token gives 200 and a new refresh token, and the old one stops working"""
    org = await seed()
    old = org.tokens["valid"]

    response = await client.post("/auth/refresh", json={"refresh_token": old})

    assert response.status_code == 200, (
        f"a live refresh token should be accepted (200); the refresh answered {response.status_code}: "
        f"{response.text[:200]}"
    )
    body = response.json()
    new = body.get("refresh_token")
    assert new and new != old, "the refresh should hand out a new refresh token, not the one it was given"
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body.get('access_token')}"})
    assert me.status_code == 200 and me.json().get("email") == org.user.email, (
        f"the new access token should open /users/me as {org.user.email}; it got {me.status_code}: {me.text[:200]}"
    )

    old_row, new_row = await stored_token(old), await stored_token(new)
    assert old_row.revoked_at is not None, (
        "the used refresh token should be revoked in the database; it is not: the refresh's commit did not happen"
    )
    assert new_row is not None and new_row.user_id == org.user.id and new_row.expires_at > utcnow(), (
        "the new refresh token should be in the database, live, for the same user"
    )

    again = await client.post("/auth/refresh", json={"refresh_token": old})
    assert again.status_code == 401, (
        f"a refresh token works once: using it a second time should give 401, it gave {again.status_code}"
    )
    chained = await client.post("/auth/refresh", json={"refresh_token": new})
    assert chained.status_code == 200, (
        f"the refresh token the refresh handed out should work in turn; it got {chained.status_code}: "
        f"{chained.text[:200]}"
    )


async def test_refresh_names_the_organisation(client, seed):
    """The refresh response carries the user's organisation"""
    org = await seed()

    response = await client.post("/auth/refresh", json={"refresh_token": org.tokens["valid"]})

    assert response.status_code == 200, f"the refresh answered {response.status_code}: {response.text[:200]}"
    user = response.json().get("user") or {}
    assert user.get("email") == org.user.email and user.get("organisation") == org.user.organisation, (
        f"the response should describe {org.user.email} in {org.user.organisation}; it has {user}"
    )


def refresh_cookie(response) -> set[str]:
    """The attributes of the refresh cookie a response sets, lower-cased ("secure", "samesite=none", ...)."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "refresh_token":
            return {part.strip().lower() for part in rest.split(";")[1:]}
    return set()


def check_cross_site(response, what: str) -> None:
    attributes = refresh_cookie(response)
    assert {"samesite=none", "secure", "httponly"} <= attributes, (
        f"{what} set the refresh cookie with {sorted(attributes) or 'no cookie at all'}. The web app lives on "
        "another site than the API, so the browser sends the cookie back only if it is SameSite=None and Secure "
        "(and HttpOnly keeps scripts off it): the cookie change that shipped with the deploy stays, it was never "
        "the cause"
    )


async def test_web_app_signs_in_and_refreshes_with_the_cookie(client, seed):
    """The web app signs in, then refreshes with the cookie the login set"""
    org = await seed()

    login = await client.post("/auth/login", data={"username": org.user.email, "password": org.user.password})
    assert login.status_code == 200, f"the login answered {login.status_code}: {login.text[:200]}"
    check_cross_site(login, "the login")

    response = await client.post("/auth/refresh")  # no body: the browser sends the cookie

    assert response.status_code == 200, (
        f"a refresh with the login's cookie should be accepted (200); it answered {response.status_code}: "
        f"{response.text[:200]}"
    )
    assert response.json().get("refresh_token") not in (None, login.json().get("refresh_token")), (
        "the refresh should hand out a new refresh token"
    )
    check_cross_site(response, "the refresh")


REJECTED = {
    "an expired token": lambda org: {"refresh_token": org.tokens["expired"]},
    "a revoked token": lambda org: {"refresh_token": org.tokens["revoked"]},
    "a token nobody issued": lambda org: {"refresh_token": "x" * 43},
    "a deactivated user's token": lambda org: {"refresh_token": org.tokens["inactive"]},
    "no token at all": lambda org: None,
}


@pytest.mark.parametrize("case", REJECTED)
async def test_bad_refresh_gives_401(case, client, seed, count_tokens):
    """Refresh with {case} gives 401 and no new token"""
    org = await seed()
    tokens_before = await count_tokens()

    response = await client.post("/auth/refresh", json=REJECTED[case](org))

    assert response.status_code == 401, (
        f"a refresh with {case} should be refused with 401; it answered {response.status_code}: {response.text[:200]}"
    )
    assert await count_tokens() == tokens_before, f"a refresh with {case} must not store a new refresh token"
