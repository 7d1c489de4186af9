"""`python -m runner new`: the scaffold a kata author starts from, in a temporary workspace.

What it makes runs (its start fails for the documented reason, its solution
passes, the commented variant examples get their verdicts); the authoring
checks (tests/test_authoring.py) name every unfinished piece of it, one line
each; and they accept it once filled in (tests/fixtures/authoring: the same
kata, written). What it refuses, it refuses in one line, exit 2, writing nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from runner import execute
from runner.catalogue import load_catalogue, resolve
from runner.commands import _common, new
from runner.workspace import Workspace
from tests import test_authoring as authoring
from tests import test_docs, test_katas
from tests.conftest import FIXTURES, REPO, run_cli
from tests.katas import IGNORE

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

KATA, TITLE, RULE = "03-basket", "The basket that lost its labels", "load-what-you-pack"
FILLED = FIXTURES / "authoring"
EXTENDED = "eager-load-what-you-read"  # a real rule page, copied into the workspace for --extend


@pytest.fixture
def ws(fixture_ws: Workspace) -> Workspace:
    """The fixture katas 01 and 02, a real rule page and a docs index: where a third kata is made."""
    rules = fixture_ws.docs_dir / "rules"
    rules.mkdir(parents=True)
    shutil.copy(REPO / "docs" / "rules" / f"{EXTENDED}.md", rules)
    (fixture_ws.docs_dir / "index.md").write_text("# Docs\n\n1. Kata 01.\n", encoding="utf-8")
    return fixture_ws


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def scaffold(ws: Workspace, *args: str):
    made = run_cli(ws, "new", *args, env={"NO_COLOR": "1"})
    assert made.returncode == 0, made.stderr
    return made, resolve(load_catalogue(ws), args[0][:2])


def copy_kata(ws: Workspace, kata, target: Path, base: str) -> Path:
    shutil.copytree(ws.katas_dir / kata.id, target, ignore=IGNORE)
    if base == "solution":
        shutil.copytree(ws.solutions_dir / kata.id, target, ignore=IGNORE, dirs_exist_ok=True)
    return target


def commented_examples(variants_toml: str) -> list[dict]:
    """The variants the template shows in comments: each block from `# [[variant]]` to a blank line, uncommented."""
    blocks, current = [], None
    for line in variants_toml.splitlines():
        if line == "# [[variant]]":
            current = []
            blocks.append(current)
        if current is not None and line.startswith("#"):
            current.append(line[2:])
        else:
            current = None
    return [tomllib.loads("\n".join(block))["variant"][0] for block in blocks]


# --- What it refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["1-x", TITLE], "is not NN-slug"),
        (["03-Basket", TITLE], "is not NN-slug"),
        (["03-basket-", TITLE], "is not NN-slug"),
        (["03_basket", TITLE], "is not NN-slug"),
        (["01-basket", TITLE], "kata number 01 is taken by katas/01-shelf: choose another; the next free number is 03"),
        (["03-shelf", TITLE], "the slug 'shelf' is taken by katas/01-shelf"),
        (["03-basket", "  "], "give the story a title"),
        (["03-basket", "Kata 03: The basket"], 'without "Kata NN:"'),
        (["03-basket", TITLE, "--rule", "Not A Slug"], "is not a rule page name"),
        (["03-basket", TITLE, "--rule", EXTENDED], f"exists: add the kata to it with --extend {EXTENDED}"),
        (["03-basket", TITLE, "--extend", "no-such-rule"], "docs/rules/no-such-rule.md does not exist"),
        (["03-basket", TITLE, "--rule", "a", "--extend", EXTENDED], "not allowed with argument"),
        (["03-basket"], "the following arguments are required: title"),
    ],
)
def test_it_refuses_in_one_line_and_writes_nothing(ws, args, says):
    before = snapshot(ws.root)
    refused = run_cli(ws, "new", *args)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1 and refused.stderr.startswith("error: "), refused.stderr
    assert says in refused.stderr
    assert snapshot(ws.root) == before


def test_a_number_taken_by_a_solution_or_checks_folder_alone_is_taken_too(ws):
    (ws.checks_dir / "03-stray").mkdir()
    refused = run_cli(ws, "new", KATA, TITLE)
    assert refused.returncode == 2 and "kata number 03 is taken by runner/checks/03-stray" in refused.stderr


# --- What it makes -----------------------------------------------------------------------------


def test_it_makes_the_four_folders_and_says_what_comes_next(ws):
    before = snapshot(ws.root)
    made, kata = scaffold(ws, KATA, TITLE, "--rule", RULE)
    created = [line.split()[-1] for line in made.stdout.splitlines() if line.strip().startswith("created ")]
    assert sorted(created) == sorted(set(snapshot(ws.root)) - set(before)), made.stdout
    assert made.stdout.startswith(f"Made kata 03: {TITLE}\n")
    for folder in (f"katas/{KATA}/app/", f"solutions/{KATA}/app/", f"runner/checks/{KATA}/"):
        assert any(p.startswith(folder) for p in created), f"nothing made in {folder}"
    assert f"runner/checks/{KATA}/test_basket.py" in created and f"docs/rules/{RULE}.md" in created
    assert "Next steps:" in made.stdout and "tests/test_authoring.py tests/test_katas.py -k kata-03" in made.stdout
    assert not re.search(r"\{\{\w+\}\}", "".join((ws.root / p).read_text(encoding="utf-8") for p in created))
    # The catalogue and the story's heading see it at once: nothing lists katas by hand.
    assert (kata.id, kata.title, kata.rules) == (KATA, TITLE, (RULE,))
    assert "TODO(kata-03)" in (ws.katas_dir / KATA / "app" / "service.py").read_text(encoding="utf-8")


def test_the_authoring_checks_name_every_unfinished_piece_of_a_fresh_scaffold(ws):
    _, kata = scaffold(ws, KATA, TITLE, "--rule", RULE)
    said = authoring.problems(ws, kata)
    # One line each, naming a file of the kata (or the docs index that must place it).
    assert all("\n" not in line for line in said)
    assert all(re.match(rf"(katas|solutions|runner/checks)/{KATA}|docs/(rules/{RULE}\.md|index\.md)", s) for s in said)
    placeholders = {line.split(":")[0] for line in said if ": replace the placeholder: " in line}
    assert placeholders == {
        f"katas/{KATA}/README.md",
        f"katas/{KATA}/app/models.py",
        f"katas/{KATA}/app/service.py",
        f"solutions/{KATA}/SOLUTION.md",
        f"solutions/{KATA}/app/service.py",
        f"runner/checks/{KATA}/conftest.py",
        f"runner/checks/{KATA}/kata.toml",
        f"runner/checks/{KATA}/test_basket.py",
        f"docs/rules/{RULE}.md",
    }
    expected = [
        f"katas/{KATA}/README.md: the story has ",
        f"runner/checks/{KATA}/kata.toml: 0 hints: write at least 3, tiered",
        f'runner/checks/{KATA}/variants.toml: 0 valid and 0 wrong fixes: write at least 3 valid (verdict = "pass") '
        'and 4 wrong (verdict = "fail")',
        f"docs/index.md: the learning path does not place kata 03: link ../katas/{KATA}/README.md there",
        f"docs/index.md does not link rules/{RULE}.md",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in said), f"nothing says {start!r}:\n" + "\n".join(said)
    assert any(
        line.startswith(f"katas/{KATA}/README.md:") and "the last lines of the real traceback" in line for line in said
    ), "\n".join(said)


def test_the_authoring_checks_name_what_a_half_finished_kata_lacks(ws):
    _, kata = scaffold(ws, KATA, TITLE, "--rule", RULE)
    checks = ws.checks_dir / KATA
    (ws.docs_dir / "rules" / f"{RULE}.md").write_text("# A page\n\n## Symptom\n\n## Kata\n", encoding="utf-8")
    shutil.copy(ws.katas_dir / KATA / "app" / "service.py", ws.solutions_dir / KATA / "app" / "service.py")
    (checks / "kata.toml").write_text(
        'rules = ["load-what-you-pack"]\nhints = ["a"]\n[expect]\nattribute = "Team.memberz"\n', encoding="utf-8"
    )
    (checks / "variants.toml").write_text(
        '[[variant]]\nname = "v"\nverdict = "pass"\nwhy = "w"\n[[variant.edit]]\nfile = "app/service.py"\n'
        'find = "not in the file"\nreplace = "x"\n',
        encoding="utf-8",
    )
    test_module = checks / "test_basket.py"
    text = test_module.read_text(encoding="utf-8")
    text = text.replace('    """The roster of a team of {size} names every member"""\n', "")
    test_module.write_text(
        text + '\n\nasync def test_more():\n    """More"""\n    assert 1 + 1 == 2\n', encoding="utf-8"
    )
    (ws.katas_dir / KATA / "README.md").unlink()
    said = "\n".join(authoring.problems(ws, resolve(load_catalogue(ws), "03")))
    for expected in [
        f"katas/{KATA}/README.md is missing: write the story",
        f"solutions/{KATA}/app/service.py is the kata's file unchanged",
        f"runner/checks/{KATA}/kata.toml: 1 hints",
        f'runner/checks/{KATA}/kata.toml: [expect] error = "..." names the error',
        f"runner/checks/{KATA}/kata.toml: [expect] attribute 'Team.memberz': no class Team with an attribute memberz",
        f"runner/checks/{KATA}/variants.toml: 1 valid and 0 wrong fixes",
        f"runner/checks/{KATA}/variants.toml: variant 'v': its find occurs 0 times in app/service.py, not 1",
        f"docs/rules/{RULE}.md: its sections are ['Symptom', 'Kata']",
        f"docs/rules/{RULE}.md: its Kata section does not name the kata: add `nox -s kata-03` there",
    ]:
        assert expected in said, f"nothing says {expected!r}:\n{said}"
    module = f"runner/checks/{KATA}/test_basket.py"
    assert re.search(rf"{module}:\d+: test_the_roster_names_every_member needs a docstring: its first line is", said)
    assert re.search(rf"{module}:\d+: an assert without a message: the learner sees the message only", said)


def test_the_scaffold_passes_the_meta_tests_as_it_is(ws, tmp_path, monkeypatch):
    """Its start fails with MissingGreenlet on Team.members, as its kata.toml [expect] says; its solution passes;
    every variant its variants.toml shows in comments gets its verdict: judged by tests/test_katas.py itself."""
    _, kata = scaffold(ws, KATA, TITLE)
    ran = []

    def check(kata, folder):
        ran.append(execute.run_checks(ws, kata, kata_dir=folder))
        return ran[-1]

    monkeypatch.setattr(test_katas, "check", check)
    monkeypatch.setattr(test_katas, "copy_kata", lambda kata, target, base="start": copy_kata(ws, kata, target, base))
    test_katas.test_start_fails_for_the_documented_reason(kata, tmp_path / "start")
    start = ran[-1]
    assert authoring.start_problems(ws, kata, start) == [], start
    test_katas.test_solution_passes(kata, tmp_path / "solution")
    solved = ran[-1]
    examples = commented_examples((ws.checks_dir / KATA / "variants.toml").read_text(encoding="utf-8"))
    assert {v["verdict"] for v in examples} == {"pass", "fail"}, "the comments show a valid and a wrong fix"
    assert {v["base"] for v in examples} == {"start", "solution"}, "and a fix of the start and one of the solution"
    assert any(v.get("per_row") for v in examples), "and a query per row"
    for example in examples:
        test_katas.test_variant_gets_its_verdict(kata, example, tmp_path / example["name"])

    # What the authoring verdict on the start says when the start does not fail as documented.
    toml = f"runner/checks/{KATA}/kata.toml"
    other = dataclasses.replace(kata, expect={"error": "DetachedInstanceError", "attribute": "Team.name"})
    assert authoring.start_problems(ws, other, start) == [
        f"{toml}: [expect] error = 'DetachedInstanceError', but the start fails with MissingGreenlet: "
        "see python -m runner check 03 --verbose",
        f"{toml}: [expect] attribute names ['Team.name'], but the start fails on ['Team.members']: "
        "see python -m runner check 03 --verbose",
    ]
    assert authoring.start_problems(ws, kata, solved) == [
        f"katas/{KATA}: the start passes every check: the checks must hit the story's bug"
    ]


def test_the_authoring_checks_accept_it_once_filled_in(ws, tmp_path):
    _, kata = scaffold(ws, KATA, TITLE, "--rule", RULE)
    shutil.copytree(FILLED, ws.root, dirs_exist_ok=True)
    kata = resolve(load_catalogue(ws), "03")
    assert authoring.problems(ws, kata) == []
    start = execute.run_checks(ws, kata, kata_dir=copy_kata(ws, kata, tmp_path / "start", "start"))
    assert authoring.start_problems(ws, kata, start) == [], start
    assert execute.run_checks(ws, kata, kata_dir=copy_kata(ws, kata, tmp_path / "solved", "solution")).passed


def test_a_new_rule_page_meets_the_docs_tests_and_its_code_runs(ws):
    """As tests/test_docs.py judges the pages in docs/: the six sections, the first screen, every block run."""
    scaffold(ws, KATA, TITLE, "--rule", RULE)
    page = ws.docs_dir / "rules" / f"{RULE}.md"
    test_docs.test_rule_page_has_the_six_sections(page)
    test_docs.test_rule_page_opens_with_the_rule_the_symptom_and_the_fix(page)
    # test_docs.run_page, in a process of its own as test_docs runs it, with the workspace's docs for docs/.
    run_page = (
        "import pathlib, sys, tests.test_docs as docs; "
        "docs.DOCS = pathlib.Path(sys.argv[1]); docs.run_page(pathlib.Path(sys.argv[2]))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", run_page, str(ws.docs_dir), str(page)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=test_docs.PAGE_TIMEOUT,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count(" ok in ") == 3, ran.stdout  # the setup, the symptom, the fix


def test_extend_adds_the_kata_to_an_existing_rule_page(ws):
    page = ws.docs_dir / "rules" / f"{EXTENDED}.md"
    before = page.read_text(encoding="utf-8")
    made, kata = scaffold(ws, KATA, TITLE, "--extend", EXTENDED)
    assert f"extended docs/rules/{EXTENDED}.md" in made.stdout
    assert sorted(p.name for p in (ws.docs_dir / "rules").iterdir()) == [f"{EXTENDED}.md"]
    after = page.read_text(encoding="utf-8")
    kata_section = after[after.index("\n## Kata\n") :]
    added = kata_section[kata_section.index("Kata 03 trains this rule too") : kata_section.index("See also")]
    assert after.replace(added, "") == before and "`nox -s kata-03`" in added
    assert kata.rules == (EXTENDED,)
    said = authoring.problems(ws, kata)
    assert any(line.startswith(f"docs/rules/{EXTENDED}.md:") and "replace the placeholder" in line for line in said)


# --- The pure parts ----------------------------------------------------------------------------


def test_every_template_renders_completely():
    wanted = new.names("06-any-thing", "A title")
    for change in new.plan(Path("/nowhere"), wanted):
        assert not re.search(r"\{\{|\}\}", change.text), change.path


def test_a_title_is_filled_in_as_written():
    assert new.render("{{title}} {{slug}}", {"title": "Why {{slug}}?", "slug": "s"}) == "Why {{slug}}? s"
    with pytest.raises(KeyError, match="unknown"):
        new.render("{{unknown}}", {})


def test_names():
    assert new.names("06-response-model", "  The   title ") == new.Names(
        "06", "response-model", "The title", "response-model", extend=False
    )
    assert new.names("06-x", "T", extend="a-rule").rule == "a-rule"
    with pytest.raises(_common.UsageError):
        new.names("6-x", "T")


def test_an_extension_goes_at_the_end_of_the_kata_section():
    assert new.extend_page("# R\n\n## Kata\n\nKata 01.\n", "Kata 02.") == "# R\n\n## Kata\n\nKata 01.\n\nKata 02.\n"
    assert (
        new.extend_page("## Kata\n\nKata 01.\n\nSee also: x.\n", "Kata 02.\n")
        == "## Kata\n\nKata 01.\n\nKata 02.\n\nSee also: x.\n"
    )
    with pytest.raises(ValueError):
        new.extend_page("## Symptom\n", "Kata 02.")


def test_a_write_that_fails_half_way_leaves_nothing_behind(tmp_path):
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text("before", encoding="utf-8")
    (tmp_path / "blocker").write_text("a file where a folder must go", encoding="utf-8")
    before = snapshot(tmp_path)
    changes = [
        new.Change(page, "after", extends=True),
        new.Change(tmp_path / "katas" / "03-x" / "README.md", "story"),
        new.Change(tmp_path / "blocker" / "inside.md", "cannot be written"),
    ]
    with pytest.raises(OSError):
        new.write(changes)
    assert snapshot(tmp_path) == before and not (tmp_path / "katas").exists()


def test_the_nox_session_passes_its_arguments_to_the_command(monkeypatch):
    import noxfile

    calls = []
    monkeypatch.setattr(noxfile, "_runner", lambda session, *args, kata="": calls.append(args))
    session = type("Session", (), {"posargs": [KATA, TITLE, "--rule", RULE]})()
    noxfile.new(session)
    assert calls == [("new", KATA, TITLE, "--rule", RULE)]
    assert "scaffold" in noxfile.new.__doc__
