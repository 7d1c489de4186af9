"""What a verification run (POST /api/addresses/verify) stores for each pending address, and how long it takes."""

from __future__ import annotations

import pytest

LATENCY = 0.1  # conftest.LATENCY: one lookup's wait
SURE, UNSURE, DOWN = "sure", "unsure", "down"  # conftest: what the geocoder says of an address


def check_answered(address, stored, line) -> None:
    """The geocoder's answer for ``address`` is stored once, the address's status follows it, the run reports it."""
    match = address.match
    assert len(stored.verifications) == 1, (
        f"address {address.id} ({address.line!r}) should have the geocoder's answer stored once, "
        f"it has {len(stored.verifications)} stored answers"
    )
    verification_id, reference, formatted, confidence = stored.verifications[0]
    assert (reference, formatted, confidence) == (match.reference, match.formatted, match.confidence), (
        f"address {address.id} ({address.line!r}) has the stored answer {reference!r} ({formatted!r}), "
        f"the geocoder answered {match.reference!r} ({match.formatted!r}) for it: each address must keep "
        "the answer to its own lookup"
    )
    assert stored.status != "pending", (
        f"address {address.id} ({address.line!r}) has the geocoder's answer stored, and still reads 'pending': "
        "the change to its status never reached the database. Was it made while another task was flushing "
        "the same session? A flush marks every object clean when it ends, and a change made meanwhile is lost"
    )
    if address.outcome == SURE:
        assert stored.status == "verified", (
            f"the geocoder is sure of address {address.id} (confidence {match.confidence}); "
            f"it should be verified, it is {stored.status!r}"
        )
        assert (stored.latitude, stored.longitude) == (match.latitude, match.longitude), (
            f"address {address.id} ({address.line!r}) should be at {match.latitude}, {match.longitude}, "
            f"where the geocoder placed it; it is stored at {stored.latitude}, {stored.longitude}"
        )
    else:
        assert stored.status == "needs_review", (
            f"the geocoder is unsure of address {address.id} (confidence {match.confidence}); it should "
            f"wait for a person (needs_review), it is {stored.status!r}"
        )
        assert (stored.latitude, stored.longitude) == (None, None), (
            f"address {address.id} is not verified, so no driver may be sent there: it should have no "
            f"coordinates, it has {stored.latitude}, {stored.longitude}"
        )
    assert stored.last_error is None, (
        f"address {address.id} was answered, and still notes the error {stored.last_error!r}"
    )
    assert line is not None, f"the run checked address {address.id} and does not report it"
    assert (line["status"], line["verification_id"]) == (stored.status, verification_id), (
        f"the run reports address {address.id} as {line['status']!r} with answer {line['verification_id']}; "
        f"the database holds {stored.status!r} with answer {verification_id}"
    )


def check_unanswered(address, stored, line, failed: int = 1) -> None:
    """An address the geocoder did not answer for stays pending, with the error noted, and nothing stored."""
    assert stored.status == "pending", (
        f"the geocoder did not answer for address {address.id}: it should stay pending for the next run, "
        f"it is {stored.status!r}"
    )
    assert not stored.verifications, (
        f"the geocoder did not answer for address {address.id}, and {len(stored.verifications)} answers are "
        "stored for it"
    )
    assert stored.failed_lookups == failed and "503" in (stored.last_error or ""), (
        f"address {address.id} should count {failed} failed lookup and note the geocoder's error; it counts "
        f"{stored.failed_lookups}, noting {stored.last_error!r}"
    )
    assert line is not None and line["status"] == "pending" and "503" in (line["error"] or ""), (
        f"the run should report address {address.id} as pending, with the geocoder's error; it reports {line}"
    )


def check_looked_up_once(geocoder, addresses) -> None:
    asked = sorted(geocoder.lookups)
    wanted = sorted(address.line for address in addresses)
    assert asked == wanted, (
        f"each pending address should be looked up once: the geocoder was asked {len(asked)} times for "
        f"{len(wanted)} addresses ({asked})"
    )


ANSWERED = {  # what a run must do with the answers -> what the geocoder says of each pending address
    "every address the geocoder is sure of is verified, at its own coordinates": [SURE] * 6,
    "an address the geocoder is unsure of waits for a person, without coordinates": [
        SURE,
        UNSURE,
        SURE,
        UNSURE,
        UNSURE,
    ],
}


@pytest.mark.parametrize("what", list(ANSWERED))
async def test_answers_are_stored(what, seed_addresses, run_verification, stored, geocoder):
    """A run: {what}; each answer stored once"""
    addresses = await seed_addresses(ANSWERED[what])

    report, _ = await run_verification()

    held = await stored()
    check_looked_up_once(geocoder, addresses)
    for address in addresses:
        check_answered(address, held[address.id], report.get(address.id))


async def test_unanswered_addresses_stay_pending(seed_addresses, run_verification, stored, geocoder):
    """An address the geocoder did not answer for stays pending; every answered one is stored all the same"""
    addresses = await seed_addresses([SURE, DOWN, UNSURE, DOWN, SURE, SURE])

    report, _ = await run_verification()

    held = await stored()
    check_looked_up_once(geocoder, addresses)
    for address in addresses:
        if address.outcome == DOWN:
            check_unanswered(address, held[address.id], report.get(address.id))
        else:
            check_answered(address, held[address.id], report.get(address.id))


async def test_a_second_run_takes_only_what_is_left(seed_addresses, run_verification, stored, geocoder):
    """The next run looks up only the addresses the last one left pending, and stores no answer twice"""
    addresses = await seed_addresses([SURE, DOWN, UNSURE, SURE, DOWN])
    await run_verification()
    left = [address for address in addresses if address.outcome == DOWN]
    again = {address.id: geocoder.recovers(address) for address in left}  # the geocoder is back
    geocoder.lookups.clear()

    report, _ = await run_verification()

    assert sorted(geocoder.lookups) == sorted(a.line for a in left), (
        f"the second run should look up only the {len(left)} addresses left pending ({[a.line for a in left]}); "
        f"it looked up {sorted(geocoder.lookups)}"
    )
    assert sorted(report) == sorted(a.id for a in left), (
        f"the second run should report the addresses it checked, {sorted(a.id for a in left)}; "
        f"it reports {sorted(report)}"
    )
    held = await stored()
    for address in addresses:
        answers = held[address.id].verifications
        assert len(answers) == 1, (
            f"after two runs address {address.id} should have one stored answer, it has {len(answers)}"
        )
    for address in left:
        answer = again[address.id]
        assert held[address.id].status == "verified" and held[address.id].verifications[0][1] == answer.reference, (
            f"address {address.id} was answered on the second run: it should be verified with answer "
            f"{answer.reference!r}; it is {held[address.id].status!r} with {held[address.id].verifications}"
        )
        assert held[address.id].failed_lookups == 1, (
            f"address {address.id}'s one failed lookup should still be counted, "
            f"it counts {held[address.id].failed_lookups}"
        )


async def test_lookups_wait_together(seed_addresses, run_verification, stored, geocoder):
    """The lookups of a run wait on the geocoder together: 8 addresses take about one lookup's time, not eight"""
    addresses = await seed_addresses([SURE, UNSURE] * 4)

    report, elapsed = await run_verification()

    held = await stored()
    for address in addresses:
        check_answered(address, held[address.id], report.get(address.id))
    waits = len(geocoder.lookups) * LATENCY
    assert elapsed < waits / 2, (
        f"a run of {len(addresses)} addresses took {elapsed:.2f} s. One lookup takes {LATENCY} s: one after "
        f"another they take {waits:.1f} s, sent together about {LATENCY} s (at most {geocoder.most_waiting} "
        "lookups were waiting at once). Keep the lookups concurrent; it is the session that must not be shared"
    )


@pytest.mark.parametrize("path", ["the geocoder answers", "the geocoder does not answer"])
async def test_selects_do_not_grow_with_the_run(path, seed_addresses, run_verification, sql):
    """A run of many addresses sends as many SELECT statements as a run of 4 ({path})"""
    outcomes = [SURE, UNSURE] if path == "the geocoder answers" else [DOWN]
    counts, checked = [], []
    for size in (4, 16):
        await seed_addresses([outcomes[n % len(outcomes)] for n in range(size)])
        sql.clear()
        report, _ = await run_verification()
        counts.append(sum(1 for statement in sql.statements if statement.lstrip().upper().startswith("SELECT")))
        checked.append(len(report))
    assert counts[0] == counts[1], (
        f"a run of {checked[0]} addresses sent {counts[0]} SELECT statements, a run of {checked[1]} sent "
        f"{counts[1]}: something queries once per address, so every run gets slower with the addresses it "
        "checks. Load what the run needs in queries whose number does not depend on how many it checks"
    )
