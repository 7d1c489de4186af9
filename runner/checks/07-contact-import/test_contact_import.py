"""What an audience's owner gets from the contact routes: an import with duplicates, its dry run, one contact added."""

from __future__ import annotations

import pytest


def shouted(row: dict[str, str]) -> dict[str, str]:
    """The same person as the file writes them again: another case, stray spaces, a nickname."""
    return {"email": f"  {row['email'].upper()} ", "name": f"{row['name'].split()[0]} (again)"}


async def post_import(client, audience, rows: list[dict], *, dry_run: bool = False) -> dict:
    response = await client.post(f"/api/audiences/{audience.id}/imports", json={"contacts": rows, "dry_run": dry_run})
    what = "a dry run of a file" if dry_run else "a file"
    assert response.status_code == 200, (
        f"POST /api/audiences/{audience.id}/imports answered {response.status_code} for {what} of "
        f"{len(rows)} contacts, some already in the audience: {response.text[:300]}"
    )
    return response.json()


def check_report(report: dict, audience, imported: list[str], skipped: list[dict]) -> None:
    """The report lists the new contacts in the file's order, and every duplicate by email and name."""
    assert report["imported"] == imported, (
        f"the report should list as imported {imported}, in the file's order; it lists {report['imported']}"
    )
    got = [(row["email"], row["name"]) for row in report["skipped"]]
    wanted = [(row["email"], row["name"]) for row in skipped]
    assert got == wanted, (
        f"the report should list as skipped {wanted} (email, and the name the file gives), in the file's "
        f"order; it lists {got}"
    )
    for row in report["skipped"]:
        assert row["email"] in row["reason"] and audience.name in row["reason"], (
            f"a skipped row's reason should name the contact and the audience {audience.name!r}, "
            f"as in '{row['email']} is already in {audience.name}'; it reads {row['reason']!r}"
        )


def check_stored(now: dict[str, str], before: dict[str, str], added: dict[str, str], first_duplicate: int) -> None:
    """The audience holds what it held, and every new contact; the rows before a duplicate too."""
    lost = [email for email in list(added)[:first_duplicate] if email not in now]
    assert not lost, (
        f"the contacts listed before the file's first duplicate, {lost}, are not stored, though the "
        "import went on: whatever undid the duplicate's INSERT undid theirs too"
    )
    missing = [email for email in added if email not in now]
    assert not missing, f"the import reported {missing} as imported, and the audience does not hold them"
    changed = {email: now.get(email) for email, name in before.items() if now.get(email) != name}
    assert not changed, f"contacts the audience already held were changed or removed: {changed}"
    wrong = {email: now[email] for email, name in added.items() if now[email] != name}
    assert not wrong, f"new contacts were stored under the wrong name: {wrong}"
    extra = sorted(set(now) - set(before) - set(added))
    assert not extra, f"the audience holds contacts the file did not add: {extra}"


async def test_an_import_skips_contacts_already_in_the_audience(client, seed_audience, stored, people):
    """An import stores every new contact and reports, by name, each one already in the audience"""
    audience = await seed_audience("Spring newsletter", 6)
    elsewhere = await seed_audience("Product updates", 2)  # an email on another audience is no duplicate
    held = list(audience.contacts.items())
    first, second = ({"email": email, "name": name} for email, name in (held[0], held[3]))
    new = [people.next(), people.next(), {"email": next(iter(elsewhere.contacts)), "name": "Mira Lind"}]
    new += [people.next(), people.next()]
    rows = [new[0], new[1], shouted(first), new[2], new[3], shouted(second), new[4]]

    report = await post_import(client, audience, rows)

    added = {row["email"]: row["name"] for row in new}
    skipped = [{"email": first["email"], "name": rows[2]["name"]}, {"email": second["email"], "name": rows[5]["name"]}]
    check_report(report, audience, list(added), skipped)
    check_stored(await stored(audience), audience.contacts, added, first_duplicate=2)
    assert await stored(elsewhere) == elsewhere.contacts, "an import into one audience changed another audience"


async def test_a_contact_listed_twice_is_imported_once(client, seed_audience, stored, people):
    """A contact listed twice in one file is imported once, and the repeat reported by name"""
    audience = await seed_audience("Field notes", 3)
    new = [people.next() for _ in range(4)]
    rows = [new[0], new[1], new[2], shouted(new[0]), new[3]]

    report = await post_import(client, audience, rows)

    added = {row["email"]: row["name"] for row in new}
    check_report(report, audience, list(added), [{"email": new[0]["email"], "name": rows[3]["name"]}])
    check_stored(await stored(audience), audience.contacts, added, first_duplicate=3)


async def test_a_dry_run_stores_nothing(client, seed_audience, stored, people):
    """A dry run reports what the import would do and stores nothing; the import itself then does it"""
    audience = await seed_audience("Weekly digest", 4)
    held = next(iter(audience.contacts.items()))
    new = [people.next() for _ in range(4)]
    rows = [new[0], new[1], shouted({"email": held[0], "name": held[1]}), new[2], shouted(new[1]), new[3]]
    added = {row["email"]: row["name"] for row in new}
    skipped = [{"email": held[0], "name": rows[2]["name"]}, {"email": new[1]["email"], "name": rows[4]["name"]}]

    preview = await post_import(client, audience, rows, dry_run=True)

    check_report(preview, audience, list(added), skipped)
    kept = sorted(set(await stored(audience)) - set(audience.contacts))
    assert not kept, (
        f"a dry run stored {kept}: a preview reports what the import would do and keeps nothing, so its "
        "rows must stay inside the transaction it rolls back"
    )
    report = await post_import(client, audience, rows)
    check_report(report, audience, list(added), skipped)
    check_stored(await stored(audience), audience.contacts, added, first_duplicate=2)


async def test_adding_a_contact_already_in_the_audience(client, seed_audience, stored):
    """Adding a contact already in the audience answers 409, naming them and the audience"""
    audience = await seed_audience("Spring newsletter", 3)
    email, name = list(audience.contacts.items())[1]

    response = await client.post(f"/api/audiences/{audience.id}/contacts", json=shouted({"email": email, "name": name}))

    assert response.status_code == 409, (
        f"adding {email} a second time should answer 409 (already in the audience), it answered "
        f"{response.status_code}: {response.text[:300]}"
    )
    detail = response.json().get("detail", "")
    assert email in detail and audience.name in detail, (
        f"the 409 should say who is already in which audience ('{email} is already in {audience.name}'); "
        f"it says {detail!r}"
    )
    assert await stored(audience) == audience.contacts, "a refused contact changed the audience's contacts"


async def test_adding_a_new_contact(client, seed_audience, stored, people):
    """Adding a new contact from the form stores it and answers it"""
    audience = await seed_audience("Spring newsletter", 3)
    person = people.next()

    response = await client.post(f"/api/audiences/{audience.id}/contacts", json=shouted(person))

    assert response.status_code == 201, f"adding a new contact answered {response.status_code}: {response.text[:300]}"
    body = response.json()
    assert (body["email"], body["name"]) == (person["email"], shouted(person)["name"]), (
        f"the answer should be the contact as stored ({person['email']}, normalised), it is {body}"
    )
    assert await stored(audience) == {**audience.contacts, person["email"]: shouted(person)["name"]}, (
        "the new contact is not stored as answered"
    )


@pytest.mark.parametrize("sizes", [(10, 40)])
async def test_selects_do_not_grow_with_the_file(sizes, client, seed_audience, stored, people, sql):
    """An import of {sizes[0]} contacts and one of {sizes[1]} send the same number of SELECTs (3 duplicates each)"""
    counts = []
    for size in sizes:
        audience = await seed_audience(f"Audience of {size}", 5)
        held = [{"email": email, "name": name} for email, name in list(audience.contacts.items())[:2]]
        new = [people.next() for _ in range(size - 3)]
        rows = [*new[:2], shouted(held[0]), *new[2:-2], shouted(new[1]), shouted(held[1]), *new[-2:]]
        sql.clear()
        await post_import(client, audience, rows)
        counts.append(sum(statement.lstrip().upper().startswith("SELECT") for statement in sql.statements))
        check_stored(await stored(audience), audience.contacts, {row["email"]: row["name"] for row in new}, 2)

    assert counts[0] == counts[1], (
        f"an import of {sizes[0]} rows sent {counts[0]} SELECTs and one of {sizes[1]} rows sent {counts[1]}: "
        "something queries once per row, so a bigger file gets slower row by row. Let the database's "
        "unique constraint find the duplicates, or look them all up in one query"
    )
