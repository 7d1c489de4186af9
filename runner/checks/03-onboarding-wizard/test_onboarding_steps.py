"""POST /api/onboarding/{id}/steps/{step}: each step, checked against what the database stored."""

from __future__ import annotations

STEPS = ("organization", "identity", "roles", "members")  # the wizard, in order


async def complete(client, organization_id: int, step: str):
    return await client.post(f"/api/onboarding/{organization_id}/steps/{step}")


def check_matches(stored, shown: dict, row: dict) -> None:
    problem = stored.not_stamped("after the step, the onboarding status", "updated_at", row["updated_at"])
    assert problem is None, problem
    for column in ("current_step", "completed_steps", "is_complete"):
        assert shown[column] == row[column], (
            f"after the step, the response says {column} = {shown[column]!r}, the database stored {row[column]!r}"
        )
    for column in ("started_at", "updated_at"):
        assert stored.same_time(shown[column], row[column]), (
            f"after the step, the response says {column} = {shown[column]}, the database stored {row[column]}. "
            "Answer with the status as stored, after the database has set its time"
        )


async def test_complete_step(client, stored, seed_onboarding):
    """Completing a step returns the onboarding status as the database stored it, with its new updated_at"""
    seeded = await seed_onboarding("identity")

    response = await complete(client, seeded.organization_id, "identity")

    assert response.status_code == 200, f"completing 'identity' should answer 200, it answered {response.status_code}"
    row = await stored.status(seeded.organization_id)
    assert (row["current_step"], row["completed_steps"]) == ("roles", ["organization", "identity"]), (
        f"after 'identity' the database should hold step 'roles' next with ['organization', 'identity'] done; "
        f"it holds {row['current_step']!r} after {row['completed_steps']}: was the step committed?"
    )
    assert row["updated_at"] != row["started_at"], "the database should have set a new updated_at for the step"
    check_matches(stored, response.json(), row)


async def test_complete_last_step(client, stored, seed_onboarding):
    """Completing the last step returns the onboarding as complete, as stored"""
    seeded = await seed_onboarding(STEPS[-1])

    response = await complete(client, seeded.organization_id, STEPS[-1])

    assert response.status_code == 200, (
        f"completing the last step should answer 200, it answered {response.status_code}"
    )
    row = await stored.status(seeded.organization_id)
    assert (row["is_complete"], row["current_step"]) == (True, None), (
        f"after the last step the database should hold a complete onboarding with no step next; "
        f"it holds is_complete = {row['is_complete']}, current_step = {row['current_step']!r}"
    )
    check_matches(stored, response.json(), row)


async def test_step_out_of_order(client, stored, seed_onboarding):
    """A step out of order is refused with 409, and the status is left as it was"""
    seeded = await seed_onboarding("identity")
    before = await stored.status(seeded.organization_id)

    response = await complete(client, seeded.organization_id, "members")

    assert response.status_code == 409, (
        f"completing 'members' before 'identity' should get 409, it got {response.status_code}"
    )
    assert await stored.status(seeded.organization_id) == before, "a refused step changed the stored status"
