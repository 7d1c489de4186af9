"""POST /api/onboarding/organization: the wizard's first step, checked against what the database stored."""

from __future__ import annotations

import re

import pytest

from app.models import Organization

NAMES = {
    "fire_department": "Lakeside Fire Department",
    "ems_agency": "Valley EMS",
    "rescue_squad": "North Ridge Rescue",
}


def payload(organization_type: str, slug: str, registry_number: str | None = None) -> dict:
    body = {"name": NAMES[organization_type], "slug": slug, "organization_type": organization_type}
    if registry_number is not None:
        body["registry_number"] = registry_number
    return body


async def create(client, body: dict) -> dict:
    response = await client.post("/api/onboarding/organization", json=body)
    assert response.status_code == 201, (
        f"creating {body['name']!r} should answer 201, it answered {response.status_code}: {response.text[:300]}"
    )
    return response.json()


def check_timestamps(stored, shown: dict, row: dict, what: str) -> None:
    for column in ("created_at", "updated_at"):
        problem = stored.not_stamped(what, column, row[column])
        assert problem is None, problem
        assert stored.same_time(shown[column], row[column]), (
            f"{what}: the response says {column} = {shown[column]}, the database stored {row[column]}. "
            "Return the time the database set, not one computed or remembered in Python"
        )


def statements_after_update(sent: list[str]) -> list[str] | None:
    """The statements from the first UPDATE of an organization on (it included), or None if none was sent."""
    for index, statement in enumerate(sent):
        if re.match(r"\s*UPDATE\s+organizations\b", statement, re.IGNORECASE):
            return sent[index:]
    return None


async def test_department_id_and_identifier_type(client, stored, sql):
    """An organization without a registry number gets its department ID and the identifier type the database derived"""
    shown = await create(client, payload("fire_department", "lakeside"))
    sent = list(sql.statements)

    row = await stored.organization(shown["id"])
    assert row is not None, "the response names an organization the database does not hold: was it committed?"
    assert row["department_id"] is not None, (
        "an organization without a registry number should be issued a department ID"
    )
    assert shown["department_id"] == row["department_id"], (
        f"the response says department_id = {shown['department_id']!r}, the database stored {row['department_id']!r}"
    )
    assert row["identifier_type"].value == "department_id", (
        f"without a registry number the database should derive identifier_type department_id, "
        f"it stored {row['identifier_type'].value!r}"
    )
    assert shown["identifier_type"] == row["identifier_type"].value, (
        f"the response says identifier_type = {shown['identifier_type']!r}, "
        f"the database derived {row['identifier_type'].value!r}"
    )
    assert shown["organization_type"] == row["organization_type"].value == "fire_department", (
        f"asked for a fire_department; the response says {shown['organization_type']!r}, "
        f"the database stored {row['organization_type'].value!r}"
    )
    check_timestamps(stored, shown, row, "an organization with a department ID")
    after_update = statements_after_update(sent)
    if after_update is not None:  # the department ID was saved by an UPDATE, as the story has it
        assert row["updated_at"] > row["created_at"], (
            f"updated_at: the organization holds {row['updated_at']}, the time of its INSERT (created_at is "
            f"{row['created_at']}): the UPDATE that saved the department ID did not move it. The database "
            "stamps updated_at on every UPDATE (onupdate=func.now()): keep it doing so, and answer with that time"
        )
        assert any("identifier_type" in statement for statement in after_update), (
            f"identifier_type: the response says {shown['identifier_type']!r}, but nothing read it back from the "
            "database after the UPDATE that saved the department ID, and the database derives it again on every "
            "UPDATE: the response computed it in Python (or kept it from before), where the database's rule and "
            "Python's can part ways. Read back what the database derived (refresh, or RETURNING)"
        )


async def test_registry_number(client, stored):
    """An organization with a registry number comes back with identifier type registry_number, as stored"""
    shown = await create(client, payload("rescue_squad", "north-ridge", registry_number="RS-88213"))

    row = await stored.organization(shown["id"])
    assert row is not None, "the response names an organization the database does not hold: was it committed?"
    assert row["identifier_type"].value == "registry_number", (
        "an organization with a registry number should be identified by it: the database derives "
        f"identifier_type registry_number, but it stored {row['identifier_type'].value!r}. "
        "identifier_type is the database's to derive, not a default to set in Python"
    )
    assert shown["identifier_type"] == "registry_number", (
        f"the response says identifier_type = {shown['identifier_type']!r}, the database derived 'registry_number'"
    )
    assert (shown["registry_number"], shown["department_id"]) == (row["registry_number"], row["department_id"]), (
        f"the response says registry_number = {shown['registry_number']!r} and department_id = "
        f"{shown['department_id']!r}; the database stored {row['registry_number']!r} and {row['department_id']!r}"
    )
    check_timestamps(stored, shown, row, "an organization with a registry number")


@pytest.mark.parametrize(
    ("organization_type", "count", "registry_number"),
    [("rescue_squad", 3, "RS-30117"), ("ems_agency", 6, None), ("fire_department", 12, None)],
)
async def test_default_roles(client, stored, organization_type, count, registry_number):
    """A new {organization_type} comes back with its {count} default roles, as stored"""
    shown = await create(
        client, payload(organization_type, f"new-{organization_type.replace('_', '-')}", registry_number)
    )

    rows = await stored.roles(shown["id"])
    assert len(rows) == count, f"a new {organization_type} should have {count} default roles stored, it has {len(rows)}"
    assert [r["key"] for r in shown["roles"]] == [r["key"] for r in rows], (
        f"the response lists the roles {[r['key'] for r in shown['roles']]}; the database holds "
        f"{[r['key'] for r in rows]}, in this order. The new organization's roles are what the database stored"
    )
    for role, row in zip(shown["roles"], rows, strict=True):
        assert (role["name"], role["permissions"]) == (row["name"], row["permissions"]), (
            f"role {row['key']!r}: the response says {role['name']!r} with {role['permissions']}, "
            f"the database stored {row['name']!r} with {row['permissions']}"
        )
        problem = stored.not_stamped(f"role {row['key']!r}", "created_at", row["created_at"])
        assert problem is None, problem
        assert stored.same_time(role["created_at"], row["created_at"]), (
            f"role {row['key']!r}: the response says created_at = {role['created_at']}, "
            f"the database stored {row['created_at']}"
        )


async def test_onboarding_starts(client, stored):
    """The response shows where onboarding starts: the organization step done, identity next, times as stored"""
    shown = await create(client, payload("rescue_squad", "pine-hollow", registry_number="RS-51002"))

    row = await stored.status(shown["id"])
    assert row is not None, "the new organization has no onboarding status in the database: was it committed?"
    onboarding = shown["onboarding"]
    assert (onboarding["current_step"], onboarding["completed_steps"], onboarding["is_complete"]) == (
        row["current_step"],
        row["completed_steps"],
        row["is_complete"],
    ), (
        f"the response says step {onboarding['current_step']!r} next after {onboarding['completed_steps']}; "
        f"the database stored {row['current_step']!r} after {row['completed_steps']}"
    )
    assert (row["current_step"], row["completed_steps"]) == ("identity", ["organization"]), (
        f"a new organization's onboarding should be at step 'identity' with ['organization'] done; "
        f"the database holds {row['current_step']!r} after {row['completed_steps']}"
    )
    for column in ("started_at", "updated_at"):
        problem = stored.not_stamped("the onboarding status", column, row[column])
        assert problem is None, problem
        assert stored.same_time(onboarding[column], row[column]), (
            f"the onboarding status: the response says {column} = {onboarding[column]}, "
            f"the database stored {row[column]}"
        )


async def test_taken_slug(client, stored):
    """A taken address is refused with 409, and nothing more is stored"""
    await create(client, payload("ems_agency", "valley-ems"))

    organizations = await stored.count(Organization)
    response = await client.post("/api/onboarding/organization", json=payload("rescue_squad", "valley-ems"))

    assert response.status_code == 409, (
        f"a second organization at 'valley-ems' should get 409, it got {response.status_code}"
    )
    assert await stored.count(Organization) == organizations, "a refused organization was stored anyway"


@pytest.mark.parametrize("kind", ["without a registry number", "with a registry number"])
async def test_statements_do_not_grow_with_roles(client, sql, kind):
    """Onboarding an organization {kind} runs as many SQL statements for 12 default roles as for 3"""

    async def statements_for(organization_type: str, slug: str) -> int:
        registry_number = f"RS-{slug}" if kind.startswith("with ") else None
        sql.clear()
        await create(client, payload(organization_type, slug, registry_number))
        return len(sql)

    for_three = await statements_for("rescue_squad", "small-squad")
    for_twelve = await statements_for("fire_department", "big-department")

    assert for_three == for_twelve, (
        f"onboarding ran {for_three} SQL statements for an organization with 3 default roles and {for_twelve} "
        "for one with 12: something runs once per role. Insert the roles together and load them together"
    )
