"""The author check, in the spirit of `rustlings dev check`: every kata is complete.

A kata is four folders (the kata, its solution, its hidden checks, its rule
pages); nothing lists katas by hand, so this is what notices a missing part.
`python -m runner new` scaffolds a kata whose every unfinished piece fails
here: each problem is one line naming the file and what to do there
(tests/test_new.py proves it on a fresh scaffold, and on one filled in).

The functions below are pure judgements over a workspace: the tests run them on
this repository's katas, tests/test_new.py on a scaffold in a temporary one.
That the start fails for its documented reason is tests/test_katas.py's to
prove (it runs the checks); ``start_problems`` words its verdict for authors.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from runner import results
from runner.catalogue import Kata
from runner.commands.new import MIN_HINTS, MIN_VALID_VARIANTS, MIN_WRONG_VARIANTS, PLACEHOLDER
from runner.workspace import Workspace
from tests.katas import KATAS, NOTES, WS
from tests.test_docs import LINK_RE, RULE_SECTIONS, headings, prose, section
from tests.test_katas import IO_KINDS, expected_attributes

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

IDS = [k.session for k in KATAS]
STORY_WORDS = 150
PLACEHOLDER_LINE = re.compile(rf"{PLACEHOLDER}\b:?\s*(?P<what>.*)")


# --- Where a kata's parts are ------------------------------------------------------------------


def _rel(ws: Workspace, path: Path) -> str:
    return path.relative_to(ws.root).as_posix()


def _kata_dir(ws: Workspace, kata: Kata) -> Path:
    return ws.katas_dir / kata.id


def _checks_dir(ws: Workspace, kata: Kata) -> Path:
    return ws.checks_dir / kata.id


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def _rule_pages(ws: Workspace, kata: Kata) -> list[Path]:
    return [ws.docs_dir / "rules" / f"{rule}.md" for rule in kata.rules]


def _toml(ws: Workspace, path: Path) -> tuple[dict, list[str]]:
    if not path.is_file():
        return {}, [f"{_rel(ws, path)} is missing: python -m runner new makes one"]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{_rel(ws, path)} is not valid TOML ({exc}): fix it"]


# --- The judgements: each returns one line per problem, naming the file and what to do --------


def placeholder_problems(ws: Workspace, kata: Kata) -> list[str]:
    """Every line of the kata's files and rule pages that still holds a template placeholder."""
    found = []
    folders = [_kata_dir(ws, kata), ws.solutions_dir / kata.id, _checks_dir(ws, kata)]
    paths = [p for folder in folders for p in _files(folder)] + [p for p in _rule_pages(ws, kata) if p.is_file()]
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue  # not text (a learner's stray database): no placeholder to find
        for number, line in enumerate(lines, 1):
            match = PLACEHOLDER_LINE.search(line)
            if match:
                what = match["what"].strip().rstrip("\"'>-").strip() or "the template's example"
                found.append(f"{_rel(ws, path)}:{number}: replace the placeholder: {what}")
    return found


def story_problems(ws: Workspace, kata: Kata) -> list[str]:
    readme = _kata_dir(ws, kata) / "README.md"
    where = _rel(ws, readme)
    if not readme.is_file():
        return [f"{where} is missing: write the story (what users saw, the traceback, your task, how to run)"]
    text = readme.read_text(encoding="utf-8")
    found = []
    heading = f"# Kata {kata.number}: {kata.title}"
    if text.partition("\n")[0].strip() != heading:
        found.append(f"{where}: the first line must be the story's heading, {heading!r}")
    if f"nox -s {kata.session}" not in text:
        found.append(f"{where}: say how to run the kata: nox -s {kata.session}")
    words = sum(len(line.split()) for line in text.splitlines() if PLACEHOLDER not in line)
    if words < STORY_WORDS:
        found.append(
            f"{where}: the story has {words} words of its own: tell what users saw, the error and the task "
            f"(at least {STORY_WORDS})"
        )
    return found


def code_problems(ws: Workspace, kata: Kata) -> list[str]:
    folder = _kata_dir(ws, kata)
    found = []
    if not (folder / "app" / "__init__.py").is_file():
        found.append(f"{_rel(ws, folder)}/app/__init__.py is missing: the learner's code is an app/ package")
    todo = f"TODO(kata-{kata.number})"
    if not any(todo in p.read_text(encoding="utf-8") for p in _files(folder, "*.py")):
        found.append(f"{_rel(ws, folder)}: no {todo} in its code: add one where the learner should act")
    for path in _files(folder, "*.py"):
        if path.name.startswith("test_") or path.name == "conftest.py":
            found.append(f"{_rel(ws, path)}: hidden checks belong in {_rel(ws, _checks_dir(ws, kata))}/, not here")
    return found


def _defines(app: Path, model: str, attribute: str) -> bool:
    """Whether some module of the app defines class ``model`` with ``attribute`` in its body."""
    for path in _files(app, "*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == model:
                for item in node.body:
                    targets = [item.target] if isinstance(item, ast.AnnAssign) else getattr(item, "targets", [])
                    if any(isinstance(t, ast.Name) and t.id == attribute for t in targets):
                        return True
    return False


def metadata_problems(ws: Workspace, kata: Kata) -> list[str]:
    path = _checks_dir(ws, kata) / "kata.toml"
    meta, found = _toml(ws, path)
    if found:
        return found
    where = _rel(ws, path)
    hints = meta.get("hints", [])
    if len(hints) < MIN_HINTS:
        found.append(
            f"{where}: {len(hints)} hints: write at least {MIN_HINTS}, tiered: a nudge, the concept, nearly the answer"
        )
    if not meta.get("rules"):
        found.append(f'{where}: name the docs/rules pages the kata trains: rules = ["..."]')
    expect = meta.get("expect", {})
    if not expect.get("error"):
        found.append(f'{where}: [expect] error = "..." names the error the starting code must fail with')
    for attribute in sorted(expected_attributes(kata)):
        model, _, name = attribute.partition(".")
        if not name or not _defines(_kata_dir(ws, kata) / "app", model, name):
            found.append(
                f"{where}: [expect] attribute {attribute!r}: no class {model} with an attribute {name or '?'} in "
                f"{_rel(ws, _kata_dir(ws, kata))}/app: name the Model.attribute the start reads"
            )
    return found


def check_problems(ws: Workspace, kata: Kata) -> list[str]:
    folder = _checks_dir(ws, kata)
    tests = sorted(folder.glob("test_*.py"))
    if not tests:
        return [f"{_rel(ws, folder)}: no hidden checks (test_*.py): write one per path the story names"]
    found = []
    for path in [*tests, *sorted(folder.glob("conftest.py"))]:
        where = _rel(ws, path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError as exc:
            found.append(f"{where}:{exc.lineno}: does not parse ({exc.msg}): fix it")
            continue
        for node in ast.walk(tree):
            if (
                path.name != "conftest.py"
                and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name.startswith("test_")
                and not ast.get_docstring(node)
            ):
                found.append(f"{where}:{node.lineno}: {node.name} needs a docstring: its first line is the scenario")
            if isinstance(node, ast.Assert) and node.msg is None:
                found.append(f"{where}:{node.lineno}: an assert without a message: the learner sees the message only")
    return found


def solution_problems(ws: Workspace, kata: Kata) -> list[str]:
    folder = ws.solutions_dir / kata.id
    found = []
    if not (folder / NOTES).is_file():
        found.append(f"{_rel(ws, folder)}/{NOTES} is missing: say why this fix, and what the alternatives trade")
    files = _files(folder, "*.py")
    if not files:
        found.append(f"{_rel(ws, folder)}: no files: hold the files the fix changes, complete, at the kata's paths")
    for path in files:
        twin = _kata_dir(ws, kata) / path.relative_to(folder)
        if not twin.is_file():
            found.append(f"{_rel(ws, path)} has no twin in the kata: {_rel(ws, twin)} does not exist")
        elif twin.read_bytes() == path.read_bytes():
            found.append(f"{_rel(ws, path)} is the kata's file unchanged: keep only the files the fix changes")
    return found


def _variant_problems(ws: Workspace, kata: Kata, where: str, variant: dict) -> list[str]:
    """One variant's edits, applied in memory as tests/test_katas.py applies them on disk."""
    name = variant.get("name") or "?"
    found = []
    if variant.get("verdict") not in ("pass", "fail"):
        found.append(f'{where}: variant {name!r}: verdict = "pass" or "fail"')
    if not variant.get("why"):
        found.append(f'{where}: variant {name!r}: say why it is right or wrong: why = "..."')
    if variant.get("verdict") == "fail" and not variant.get("explained"):
        found.append(f'{where}: variant {name!r}: say what the learner is shown for it: explained = "..."')
    base = variant.get("base", "start")
    if base not in ("start", "solution"):
        return [*found, f'{where}: variant {name!r}: base = "start" or "solution", not {base!r}']
    texts: dict[str, str] = {}
    for edit in variant.get("edit", []):
        rel = edit.get("file", "")
        if rel not in texts:
            solved = ws.solutions_dir / kata.id / rel
            path = solved if base == "solution" and solved.is_file() else _kata_dir(ws, kata) / rel
            if not rel or not path.is_file():
                found.append(f"{where}: variant {name!r} edits {rel!r}, which the {base} has not")
                continue
            texts[rel] = path.read_text(encoding="utf-8")
        occurs, wanted = texts[rel].count(edit.get("find", "")), edit.get("count", 1)
        if not edit.get("find") or occurs != wanted:
            found.append(f"{where}: variant {name!r}: its find occurs {occurs} times in {rel}, not {wanted}")
            continue
        texts[rel] = texts[rel].replace(edit["find"], edit.get("replace", ""))
    if not variant.get("edit"):
        found.append(f"{where}: variant {name!r} has no [[variant.edit]]: it would test the {base} itself")
    return found


def variant_problems(ws: Workspace, kata: Kata) -> list[str]:
    path = _checks_dir(ws, kata) / "variants.toml"
    table, found = _toml(ws, path)
    if found:
        return found
    where = _rel(ws, path)
    found_variants = table.get("variant", [])
    valid = sum(v.get("verdict") == "pass" for v in found_variants)
    wrong = sum(v.get("verdict") == "fail" for v in found_variants)
    if valid < MIN_VALID_VARIANTS or wrong < MIN_WRONG_VARIANTS:
        found.append(
            f"{where}: {valid} valid and {wrong} wrong fixes: write at least {MIN_VALID_VARIANTS} valid "
            f'(verdict = "pass") and {MIN_WRONG_VARIANTS} wrong (verdict = "fail"); its comments show each kind'
        )
    names = [v.get("name") for v in found_variants]
    for name in sorted({n for n in names if names.count(n) > 1 or not n}, key=str):
        found.append(f"{where}: variant name {name!r} is missing or used twice: give each its own")
    for variant in found_variants:
        found += _variant_problems(ws, kata, where, variant)
    return found


def rule_page_problems(ws: Workspace, kata: Kata) -> list[str]:
    found = []
    index = ws.docs_dir / "index.md"
    links = (
        {t.split("#")[0] for t in LINK_RE.findall(prose(index.read_text(encoding="utf-8")))}
        if index.is_file()
        else set()
    )
    story = f"../katas/{kata.id}/README.md"
    if story not in links:
        found.append(f"docs/index.md: the learning path does not place kata {kata.number}: link {story} there")
    for page in _rule_pages(ws, kata):
        where = _rel(ws, page)
        if not page.is_file():
            found.append(f"{where} is missing: write the rule page (python -m runner new --rule makes one)")
            continue
        text = page.read_text(encoding="utf-8")
        if headings(text) != RULE_SECTIONS:
            found.append(f"{where}: its sections are {headings(text)}; a rule page has {RULE_SECTIONS}, in order")
        if f"nox -s {kata.session}" not in section(text, "Kata"):
            found.append(f"{where}: its Kata section does not name the kata: add `nox -s {kata.session}` there")
        if f"rules/{page.name}" not in links:
            found.append(f"docs/index.md does not link rules/{page.name}: link the page where kata {kata.number} is")
    return found


AREAS = (
    placeholder_problems,
    story_problems,
    code_problems,
    metadata_problems,
    check_problems,
    solution_problems,
    variant_problems,
    rule_page_problems,
)


def problems(ws: Workspace, kata: Kata) -> list[str]:
    """Everything the authoring checks say about one kata: empty once it is complete."""
    return [problem for area in AREAS for problem in area(ws, kata)]


def start_problems(ws: Workspace, kata: Kata, result: results.CheckResult) -> list[str]:
    """The verdict on the starting code's check, for its author: empty when it fails as kata.toml [expect] says."""
    toml = _rel(ws, _checks_dir(ws, kata) / "kata.toml")
    run = f"python -m runner check {kata.number} --verbose"
    if result.passed:
        return [f"{_rel(ws, _kata_dir(ws, kata))}: the start passes every check: the checks must hit the story's bug"]
    if result.status != results.FAIL:
        return [f"{_rel(ws, _checks_dir(ws, kata))}: the checks did not run on the start ({result.status}): see {run}"]
    io = [f for f in result.failures if f.get("kind") in IO_KINDS]
    other = sorted(
        {
            f"{f.get('kind')}: {f.get('exception') or f.get('message')}"
            for f in result.failures
            if f.get("kind") not in IO_KINDS | {"assertion"}
        }
    )
    error = kata.expect.get("error")
    found = [
        f"{toml}: the start also fails with {o}: only [expect] error = {error!r} may fail it ({run})" for o in other
    ]
    errors = sorted({f.get("error") for f in io})
    if not io:
        found.append(f"{toml}: [expect] error = {error!r}, but the start never raises it: see {run}")
    elif errors != [error]:
        found.append(f"{toml}: [expect] error = {error!r}, but the start fails with {', '.join(errors)}: see {run}")
    touched = {f"{f['attribute']['model']}.{f['attribute']['key']}" for f in io if f.get("attribute")}
    wanted = expected_attributes(kata)
    if wanted and not (touched and touched <= wanted):
        found.append(
            f"{toml}: [expect] attribute names {sorted(wanted)}, but the start fails on {sorted(touched)}: see {run}"
        )
    return found


# --- The tests: this repository's katas --------------------------------------------------------


def _fail_with(found: list[str]) -> None:
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def test_there_are_katas():
    assert KATAS, "no kata folders found under katas/"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_no_template_placeholder_is_left(kata):
    _fail_with(placeholder_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_story_opens_the_kata(kata):
    _fail_with(story_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_a_todo_marks_where_to_act(kata):
    _fail_with(code_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_metadata_is_complete(kata):
    _fail_with(metadata_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_hidden_checks_live_outside_the_kata_and_name_their_scenarios(kata):
    _fail_with(check_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_solution_mirrors_the_kata(kata):
    _fail_with(solution_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_variants_cover_wrong_and_other_right_fixes(kata):
    _fail_with(variant_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_rule_pages_and_the_learning_path_name_the_kata(kata):
    _fail_with(rule_page_problems(WS, kata))


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_nox_session_exists(kata):
    import nox.registry

    import noxfile  # noqa: F401 - importing registers the sessions

    assert kata.session in nox.registry.get(), f"nox -s {kata.session} does not exist"
    assert kata.title in (nox.registry.get()[kata.session].__doc__ or ""), "nox -l shows the kata's title"
