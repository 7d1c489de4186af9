"""The workshop commands on fixture katas: report, summary, catch-up; and the progress file's repair."""

from __future__ import annotations

import json

import pytest

from runner import progress, results, workshop
from runner import state as state_io
from runner.catalogue import Kata
from tests.conftest import run_cli

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

SERVICE = "app/service.py"
KATAS = [
    Kata(id="01-a", number="01", slug="a", title="First", hints=("h1", "h2", "h3")),
    Kata(id="02-b", number="02", slug="b", title="Second", hints=("h1", "h2")),
    Kata(id="03-c", number="03", slug="c", title="Third", hints=("h1",)),
]


def solve(ws, kata="01-shelf"):
    (ws.katas_dir / kata / SERVICE).write_text((ws.solutions_dir / kata / SERVICE).read_text())


# --- report ----------------------------------------------------------------------------------


def test_report_is_one_line_per_kata(fixture_ws):
    solve(fixture_ws)
    assert run_cli(fixture_ws, "check", "01").returncode == 0
    run_cli(fixture_ws, "hint", "02")
    proc = run_cli(fixture_ws, "report")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["kata", "status", "checks", "hints", "time", "to", "pass"]
    assert lines[1].split()[:4] == ["01", "passed", "1", "0/3"] and "0m 00s" in lines[1]
    assert lines[2].split()[:4] == ["02", "started", "0", "1/1"]
    assert "1 of 2 katas finished." in proc.stdout


def test_report_json_is_a_file_to_hand_in(fixture_ws, tmp_path):
    solve(fixture_ws)
    run_cli(fixture_ws, "check", "01")
    target = tmp_path / "shared" / "ada.json"
    proc = run_cli(fixture_ws, "report", "--json", "-o", str(target), "--name", "Ada")
    assert proc.returncode == 0 and "ada.json" in proc.stdout
    doc = workshop.parse_report(json.loads(target.read_text(encoding="utf-8")))
    assert doc["learner"] == "Ada" and doc["version"] == workshop.REPORT_VERSION
    assert [(k["id"], k["status"], k["checks"]) for k in doc["katas"]] == [
        ("01-shelf", "passed", 1),
        ("02-stall", "not-started", 0),
    ]
    printed = run_cli(fixture_ws, "report", "--json")
    assert json.loads(printed.stdout)["katas"][0]["status"] == "passed"
    assert len(target.read_bytes()) < 2000, "a small document"


# --- summary ------------------------------------------------------------------------------------


def learner(passed=(), caught_up=(), started=(), hints=None, checks=3):
    state = progress.empty()
    for kata_id in started:
        state = progress.record_check(state, kata_id, False, 100.0)
    for kata_id in passed:
        for _ in range(checks - 1):
            state = progress.record_check(state, kata_id, False, 100.0)
        state = progress.record_check(state, kata_id, True, 400.0)
    for kata_id in caught_up:
        state = progress.record_catch_up(state, kata_id, 500.0)
    for kata_id, count in (hints or {}).items():
        for _ in range(count):
            state, _ = progress.record_hint(state, kata_id, 3)
    return workshop.build_report(KATAS, state, 1_700_000_000.0)


def test_summary_counts_passes_stuck_learners_and_hints():
    reports = [
        ("ada.json", learner(passed=["01-a"], started=["02-b"], hints={"02-b": 2})),
        ("bo.json", learner(passed=["01-a"], started=["02-b"], hints={"01-a": 1, "02-b": 1})),
        ("cy.json", learner(caught_up=["01-a"], started=["02-b"], hints={"02-b": 1})),
        ("di.json", learner(passed=["01-a", "02-b"])),
    ]
    summary = workshop.summarize([(n, workshop.parse_report(r)) for n, r in reports])
    first, second, third = summary.rows
    assert (first.passed, first.caught_up, first.on_it) == (3, 1, 0)
    assert (second.passed, second.on_it, second.stuck) == (1, 3, 3)
    assert (third.on_it, third.stuck) == (1, 0)
    assert summary.most_stuck is second
    assert [(row.number, level, count) for row, level, count in summary.hints_needed()] == [
        ("02", 1, 3),
        ("01", 1, 1),
        ("02", 2, 1),
    ]
    text = workshop.render_summary(summary, workshop.Style())
    assert "Most learners are on kata 02, Second: 3 of 4 (3 of them have checked it without passing)." in text
    assert "kata 02 hint 1 of 2: 3 of 4 learners" in text
    assert first.checks_to_pass == [3, 3, 3] and "5m 00s" in text  # median time from first check to pass


def test_summary_names_and_skips_what_it_cannot_read(fixture_ws, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "ada.json").write_text(json.dumps(learner(passed=["01-a"])), encoding="utf-8")
    # PowerShell's `>` writes UTF-16 with a byte-order mark
    (folder / "bo.json").write_text(json.dumps(learner(started=["01-a"])), encoding="utf-16")
    (folder / "cut.json").write_text('{"format": "async-sqlalchemy-katas report", "vers', encoding="utf-8")
    old = {**learner(), "version": 0}
    (folder / "old.json").write_text(json.dumps(old), encoding="utf-8")
    newer = {**learner(), "version": 7}
    (folder / "new.json").write_text(json.dumps(newer), encoding="utf-8")
    (folder / "state.json").write_text(json.dumps(progress.empty()), encoding="utf-8")
    broken = learner()
    broken["katas"][0]["checks"] = "many"
    (folder / "odd.json").write_text(json.dumps(broken), encoding="utf-8")
    (folder / "notes.txt").write_text("not a report")  # not .json: not read
    proc = run_cli(fixture_ws, "summary", str(folder), str(tmp_path / "missing.json"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2 learner reports" in out and "Traceback" not in out + proc.stderr
    assert "Skipped 6 files:" in out
    assert "cut.json: damaged: not valid JSON" in out
    assert "old.json: an older report format (version 0)" in out
    assert "new.json: a newer report format (version 7)" in out
    assert "state.json: a progress file (.katas/state.json), not a report" in out
    assert "odd.json: damaged: katas[0].checks is not a number" in out
    assert "missing.json: no such file" in out
    assert "notes.txt" not in out


def test_summary_with_nothing_readable_fails(fixture_ws, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    proc = run_cli(fixture_ws, "summary", str(bad))
    assert proc.returncode == 1
    assert "No report could be read." in proc.stdout and "bad.json: not a report" in proc.stdout


# --- a kata's named failures: which a learner fixed, which the room fixed ------------------------

CAPSTONE = Kata(
    id="04-d",
    number="04",
    slug="d",
    title="Capstone",
    failures=({"name": "lazy list", "checks": ("lists",)}, {"name": "stale time", "checks": ("ships", "stamps")}),
)


def scenarios(**outcomes: bool) -> results.CheckResult:
    ran = tuple(results.Scenario(name=name.replace("_", " "), passed=ok) for name, ok in outcomes.items())
    return results.CheckResult(status=results.FAIL, scenarios=ran)


def test_a_failure_is_fixed_when_every_check_that_covers_it_ran_and_passed():
    fixed = results.fixed_failures
    assert fixed(CAPSTONE.failures, scenarios(it_lists=True, it_ships=True, it_stamps=True)) == [
        "lazy list",
        "stale time",
    ]
    assert fixed(CAPSTONE.failures, scenarios(it_lists=True, it_ships=True, it_stamps=False)) == ["lazy list"]
    # stopped at the time limit before "stamps" ran: that failure is not shown fixed
    assert fixed(CAPSTONE.failures, scenarios(it_lists=False, it_ships=True)) == []
    assert fixed(CAPSTONE.failures, results.CheckResult(status=results.BROKEN)) == []


def test_a_kata_toml_that_names_failures_badly_is_an_error_not_a_silence():
    from runner.catalogue import CatalogueError, parse_kata

    good = parse_kata("04-d", "# Kata 04: D", {"failures": [{"name": "x", "checks": "lists"}]})
    assert good.failures == ({"name": "x", "checks": ("lists",)},)
    for bad in (
        [{"name": "x"}],
        [{"name": "x", "checks": []}],
        [{"name": "", "checks": ["a"]}],
        [{"name": "x", "checks": ["a"], "check": ["b"]}],
        [{"name": "x", "checks": ["a"]}, {"name": "x", "checks": ["b"]}],
    ):
        with pytest.raises(CatalogueError, match=r"04-d/kata.toml \[\[failures\]\] #"):
            parse_kata("04-d", "# Kata 04: D", {"failures": bad})


def test_what_a_check_fixed_is_kept_until_the_code_changes():
    state = progress.record_check(progress.empty(), "04-d", False, 1.0, "v1", fixed=["lazy list"])
    assert progress.is_valid(state)
    assert progress.entry(progress.as_of(state, {"04-d": "v1"}), "04-d")["fixed"] == ["lazy list"]
    assert progress.entry(progress.as_of(state, {"04-d": "v2"}), "04-d")["fixed"] == []
    # a kata that names no failures records none; a damaged list is damage
    assert progress.record_check(progress.empty(), "01-a", False, 1.0, "v1")["katas"]["01-a"]["fixed"] == []
    damaged = {"version": 1, "katas": {"04-d": {"checks": 1, "fixed": "lazy list"}}}
    assert not progress.is_valid(damaged)
    assert progress.salvage(damaged) == (progress.empty(), 1)


def capstone_learner(fixed: list[str], status: str = "started") -> dict:
    state = progress.record_check(progress.empty(), "04-d", status == "passed", 100.0, "v", fixed=fixed)
    if status == "caught-up":
        state = progress.record_catch_up(state, "04-d", 200.0, "v")
    return workshop.build_report([*KATAS, CAPSTONE], state, 1_700_000_000.0)


def test_the_summary_shows_which_failures_the_room_fixed():
    reports = [
        ("ada.json", capstone_learner(["lazy list"])),
        ("bo.json", capstone_learner(["lazy list", "stale time"], status="passed")),
        ("cy.json", capstone_learner([])),
        # caught up: the reference fix, not the learner's: not counted
        ("di.json", capstone_learner(["lazy list", "stale time"], status="caught-up")),
        ("ed.json", workshop.build_report([*KATAS, CAPSTONE], progress.empty(), 1.0)),  # not started
    ]
    for _, report in reports:
        workshop.parse_report(report)
    ada = reports[0][1]["katas"][3]
    assert (ada["failures"], ada["fixed"]) == (["lazy list", "stale time"], ["lazy list"])
    summary = workshop.summarize([(n, workshop.parse_report(r)) for n, r in reports])
    row = summary.rows[3]
    assert (row.working, row.fixed["lazy list"], row.fixed["stale time"]) == (3, 2, 1)
    text = workshop.render_summary(summary, workshop.Style())
    assert "Failures fixed in kata 04, by the 3 learners who checked it:" in text
    assert "  lazy list   2 of 3" in text and "  stale time  1 of 3" in text
    assert "Failures fixed in kata 01" not in text  # a kata that names none
    mine = workshop.render_report(reports[0][1], workshop.Style())
    assert "Kata 04: 1 of 2 failures fixed: lazy list." in mine


def test_the_workshop_page_shows_the_capstone_lines_as_the_summary_prints_them():
    from collections import Counter

    from runner.catalogue import load_catalogue
    from tests.katas import WS

    [capstone] = [k for k in load_catalogue(WS) if k.failures]
    names = [f["name"] for f in capstone.failures]
    page = (WS.root / "docs" / "workshop.md").read_text(encoding="utf-8")
    block = page.split(f"Failures fixed in kata {capstone.number}, by the ")[1].split("```")[0]
    counts = [int(line.rsplit(" of ", 1)[0].split()[-1]) for line in block.splitlines()[1:] if line.strip()]
    row = workshop.KataRow(capstone.number, capstone.title, failures=names, working=12)
    row.fixed = Counter(dict(zip(names, counts, strict=True)))
    printed = workshop.render_summary(workshop.Summary(12, [row], []), workshop.Style())
    assert f"Failures fixed in kata {capstone.number}, by the {block.rstrip()}" in printed


def test_a_report_written_before_failures_were_named_is_read():
    old = capstone_learner([])
    for item in old["katas"]:
        del item["failures"], item["fixed"]
    summary = workshop.summarize([("old.json", workshop.parse_report(old))])
    assert "Failures fixed" not in workshop.render_summary(summary, workshop.Style())
    damaged = capstone_learner(["lazy list"])
    damaged["katas"][3]["fixed"] = "lazy list"
    with pytest.raises(workshop.ReportError, match=r"katas\[3\].fixed is not a list of names"):
        workshop.parse_report(damaged)


def test_report_and_check_record_the_failures_a_kata_names(fixture_ws):
    toml = fixture_ws.checks_dir / "01-shelf" / "kata.toml"
    toml.write_text(toml.read_text() + '\n[[failures]]\nname = "the titles"\nchecks = ["lists its books"]\n')
    run_cli(fixture_ws, "check", "01")
    before = json.loads(run_cli(fixture_ws, "report", "--json").stdout)["katas"][0]
    assert (before["failures"], before["fixed"]) == (["the titles"], [])
    start = (fixture_ws.katas_dir / "01-shelf" / SERVICE).read_text()
    solve(fixture_ws)
    assert run_cli(fixture_ws, "check", "01").returncode == 0
    after = json.loads(run_cli(fixture_ws, "report", "--json").stdout)["katas"][0]
    assert after["fixed"] == ["the titles"]
    assert "Kata 01: 1 of 1 failures fixed: the titles." in run_cli(fixture_ws, "report").stdout
    (fixture_ws.katas_dir / "01-shelf" / SERVICE).write_text(start)  # the start again: nothing is fixed
    assert json.loads(run_cli(fixture_ws, "report", "--json").stdout)["katas"][0]["fixed"] == []


# --- catch-up -----------------------------------------------------------------------------------


def test_catch_up_gives_earlier_katas_the_fix_and_keeps_your_version(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / SERVICE
    service.write_text(service.read_text() + "# my attempt\n")
    proc = run_cli(fixture_ws, "catch-up", "02", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert service.read_text() == (fixture_ws.solutions_dir / "01-shelf" / SERVICE).read_text()
    [saved] = list(fixture_ws.backups_dir.iterdir())
    assert (saved / SERVICE).read_text().endswith("# my attempt\n")
    assert "Kata 01: the reference fix is in (app/service.py)." in proc.stdout
    assert saved.name in proc.stdout and "You are on kata 02" in proc.stdout
    state = json.loads(fixture_ws.state_file.read_text())
    assert state["katas"]["01-shelf"]["caught_up_at"] and not state["katas"]["01-shelf"]["passed_at"]
    assert "Next: nox -s kata-02" in run_cli(fixture_ws, "list").stdout
    report = json.loads(run_cli(fixture_ws, "report", "--json").stdout)
    assert report["katas"][0]["status"] == "caught-up"


def test_catch_up_asks_first_and_changes_nothing_without_an_answer(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / SERVICE
    before = service.read_text()
    proc = run_cli(fixture_ws, "catch-up", "02", stdin="")
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert service.read_text() == before and not fixture_ws.backups_dir.exists()


def test_catch_up_leaves_a_kata_that_passes_alone(fixture_ws):
    solve(fixture_ws)
    service = fixture_ws.katas_dir / "01-shelf" / SERVICE
    service.write_text(service.read_text() + "# mine, and it works\n")
    proc = run_cli(fixture_ws, "catch-up", "02", "--yes")
    assert proc.returncode == 0
    assert "it passes: left as it is" in proc.stdout and "Nothing to change" in proc.stdout
    assert service.read_text().endswith("# mine, and it works\n")
    assert json.loads(fixture_ws.state_file.read_text())["katas"]["01-shelf"]["passed_at"]


def test_catch_up_to_the_first_kata_has_nothing_to_do(fixture_ws):
    proc = run_cli(fixture_ws, "catch-up", "01")
    assert proc.returncode == 0 and "Nothing to catch up" in proc.stdout


def test_catch_up_plan_is_the_unfinished_katas_before_the_target():
    state = progress.record_check(progress.empty(), "01-a", True, 1.0)
    assert [k.id for k in workshop.catch_up_candidates(KATAS, state, KATAS[2])] == ["02-b"]
    assert workshop.files_to_replace({"a.py": b"1", "b.py": b"2"}, {"a.py": b"1", "b.py": b"x"}) == ["b.py"]


# --- the progress file: damaged, it is repaired where it can be, never a crash -----------------


def test_a_damaged_progress_file_keeps_its_intact_entries(fixture_ws):
    fixture_ws.state_dir.mkdir()
    good = {"checks": 2, "hints": 1, "first_check": 10.0, "passed_at": 20.0}
    fixture_ws.state_file.write_text(
        json.dumps({"version": 1, "katas": {"01-shelf": good, "02-stall": {"checks": "lots"}}})
    )
    proc = run_cli(fixture_ws, "progress")
    assert proc.returncode == 0
    assert "damaged" in proc.stderr and "the intact entries of 1 kata are kept, 1 dropped" in proc.stderr
    assert "1 of 2 katas done." in proc.stdout
    assert (fixture_ws.state_dir / "state.json.damaged").is_file()


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 9, "katas": {}}', ""])
def test_an_unreadable_progress_file_starts_over_and_says_so(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content)
    state, warning = state_io.load(path)
    assert state == progress.empty()
    assert "damaged" in warning and "your code is untouched" in warning


def test_an_unwritable_progress_folder_is_a_note_not_a_crash(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert state_io.save(blocker / "state.json", progress.empty()) is False
    assert "progress could not be saved" in capsys.readouterr().err
