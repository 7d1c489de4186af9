"""new: scaffold a kata (for authors), in the spirit of `rustlings dev new`.

A kata is four folders (CONTRIBUTING.md). This writes all of them from the
templates in runner/templates/, as a small example that already runs: its start
fails with MissingGreenlet on a lazy relationship, its solution passes. Every
line the author must rewrite carries the word SCAFFOLD, and the authoring test
(tests/test_authoring.py) names each one left, with what to write there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runner.catalogue import KATA_DIR_PATTERN
from runner.commands import _common

NAME = "new"
HELP = 'for authors: scaffold a new kata, its solution, hidden checks and rule page (NN-slug "Title")'

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The marker on every line of the templates the author must rewrite; the authoring test looks for it.
PLACEHOLDER = "SCAFFOLD"
# What the authoring test asks of every kata (CONTRIBUTING.md); the next steps repeat it.
MIN_HINTS = 3
MIN_VALID_VARIANTS = 3
MIN_WRONG_VARIANTS = 4

RULE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FIELD = re.compile(r"\{\{(\w+)\}\}")
# Template folder -> where its files go, for a kata named `id`.
DESTINATIONS = {"kata": "katas/{id}", "solution": "solutions/{id}", "checks": "runner/checks/{id}"}
CHECK_MODULE = "test_kata.py"  # renamed after the kata: test_<slug>.py
NEW_RULE_PAGE = "rule/page.md"
RULE_EXTENSION = "rule/extension.md"
KATA_SECTION = re.compile(r"^## Kata[ \t]*$", re.M)


@dataclass(frozen=True)
class Names:
    """Everything the templates are filled with."""

    number: str  # "06"
    slug: str  # "response-model"
    title: str
    rule: str  # the docs/rules page the kata trains
    extend: bool  # True: add the kata to that existing page; False: make the page

    @property
    def id(self) -> str:
        return f"{self.number}-{self.slug}"

    def fields(self) -> dict[str, str]:
        return {
            "number": self.number,
            "slug": self.slug,
            "id": self.id,
            "title": self.title,
            "rule": self.rule,
            "rule_title": self.rule.replace("-", " ").capitalize(),
        }


@dataclass(frozen=True)
class Change:
    path: Path
    text: str
    extends: bool = False  # an existing file, rewritten with an addition


def configure(parser) -> None:
    parser.add_argument("kata", metavar="NN-slug", help="the new kata's folder name, e.g. 06-response-model")
    parser.add_argument("title", help='the story\'s title, e.g. "The response model that read too late"')
    page = parser.add_mutually_exclusive_group()
    page.add_argument("--rule", metavar="RULE", help="the new rule page's name, docs/rules/RULE.md (default: slug)")
    page.add_argument("--extend", metavar="RULE", help="add the kata to the existing page docs/rules/RULE.md")


# --- Pure logic: names, templates, the plan ----------------------------------------------------


def names(kata: str, title: str, rule: str | None = None, extend: str | None = None) -> Names:
    """The validated names, or a UsageError saying in one line what is wrong."""
    match = KATA_DIR_PATTERN.match(kata)
    if not match or match.group("slug").endswith("-"):
        raise _common.UsageError(
            f"{kata!r} is not NN-slug: two digits, a dash, then lowercase words joined by dashes (06-response-model)"
        )
    title = " ".join(title.split())
    if not title:
        raise _common.UsageError('give the story a title: python -m runner new NN-slug "The title"')
    if re.match(r"^kata\b", title, re.I):
        raise _common.UsageError(f'give the title without "Kata NN:" (the story\'s heading adds it): {title!r}')
    page = extend or rule or match.group("slug")
    if not RULE_PATTERN.match(page) or page.endswith("-"):
        raise _common.UsageError(f"{page!r} is not a rule page name: lowercase words joined by dashes")
    return Names(match.group("number"), match.group("slug"), title, page, extend=bool(extend))


def render(text: str, fields: dict[str, str]) -> str:
    """A template filled in, in one pass (a title holding `{{...}}` stays as written)."""

    def field(match: re.Match) -> str:
        if match.group(1) not in fields:
            raise KeyError(f"the templates use {{{{{match.group(1)}}}}}, which new.py does not fill")
        return fields[match.group(1)]

    return FIELD.sub(field, text)


def extend_page(page: str, addition: str) -> str:
    """The rule page with ``addition`` closing its Kata section, before its "See also" line if it has one."""
    found = KATA_SECTION.search(page)
    if not found:
        raise ValueError("no ## Kata section")
    body = page[found.end() :]
    see_also = re.search(r"^See also", body, re.M)
    at = found.end() + see_also.start() if see_also else len(page.rstrip("\n"))
    before, after = page[:at].rstrip("\n"), page[at:]
    return f"{before}\n\n{addition.strip()}\n" + (f"\n{after}" if after.strip() else "")


def template_files(templates: Path = TEMPLATES) -> dict[str, list[Path]]:
    """The templates of each destination folder, found on disk: nothing lists them by hand."""
    return {
        folder: sorted(p for p in (templates / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for folder in DESTINATIONS
    }


def plan(root: Path, wanted: Names, templates: Path = TEMPLATES, rule_page: str | None = None) -> list[Change]:
    """Every file to write, and its text. ``rule_page``: the existing page's text, when extending it."""
    fields = wanted.fields()
    changes = []
    for folder, files in template_files(templates).items():
        target = root / DESTINATIONS[folder].format(id=wanted.id)
        for source in files:
            rel = source.relative_to(templates / folder)
            if rel.as_posix() == CHECK_MODULE:
                rel = rel.with_name(f"test_{wanted.slug.replace('-', '_')}.py")
            changes.append(Change(target / rel, render(source.read_text(encoding="utf-8"), fields)))
    page = root / "docs" / "rules" / f"{wanted.rule}.md"
    if wanted.extend:
        addition = render((templates / RULE_EXTENSION).read_text(encoding="utf-8"), fields)
        changes.append(Change(page, extend_page(rule_page or "", addition), extends=True))
    else:
        changes.append(Change(page, render((templates / NEW_RULE_PAGE).read_text(encoding="utf-8"), fields)))
    return changes


def taken(root: Path, wanted: Names) -> str | None:
    """Why the number or slug cannot be used (a folder of any of the three kinds has it), or None."""
    folders = sorted(
        folder
        for parent in ("katas", "solutions", "runner/checks")
        if (root / parent).is_dir()
        for folder in (root / parent).iterdir()
        if folder.is_dir() and KATA_DIR_PATTERN.match(folder.name)
    )
    numbers = {int(folder.name[:2]) for folder in folders}
    for folder in folders:
        number, slug = folder.name[:2], folder.name[3:]
        where = folder.relative_to(root).as_posix()
        if number == wanted.number:
            then = f"; the next free number is {max(numbers) + 1:02d}" if max(numbers) < 99 else ""
            return f"kata number {wanted.number} is taken by {where}: choose another{then}"
        if slug == wanted.slug:
            return f"the slug {wanted.slug!r} is taken by {where}: choose another"
    return None


def next_steps(wanted: Names, display) -> list[str]:
    """What the author does next, in order (CONTRIBUTING.md tells the same flow)."""
    kata, checks = display(f"katas/{wanted.id}"), display(f"runner/checks/{wanted.id}")
    page = display(f"docs/rules/{wanted.rule}.md")
    return [
        f"The story: {kata}/README.md (what users saw, the traceback, your task, how to run).",
        f"The code: replace the example in {kata}/app/ with the story's; keep a TODO(kata-{wanted.number}) "
        "where the learner acts.",
        f"The checks: {checks}/ (one per path the story names, with a statement budget); then "
        f"python -m runner check {wanted.number} --verbose: the start must fail as kata.toml [expect] says.",
        f"The fix: {display(f'solutions/{wanted.id}')}/ (the files it changes, and SOLUTION.md).",
        f"{checks}/kata.toml: at least {MIN_HINTS} hints; variants.toml: at least {MIN_VALID_VARIANTS} "
        f"valid and {MIN_WRONG_VARIANTS} wrong fixes.",
        f"The rule: {page}; then place the kata in docs/index.md's learning path, linking its story and the page.",
        f"python -m nox -s tests -- tests/test_authoring.py tests/test_katas.py -k kata-{wanted.number}: "
        "what is still missing, one line each, until it passes.",
    ]


# --- IO at the edge ----------------------------------------------------------------------------


def write(changes: list[Change]) -> None:
    """Write every change, or none: on an error, what was written is removed and an extended page restored."""
    made: list[Path] = []  # files and folders this call created, in order
    kept: dict[Path, str] = {}
    try:
        for change in changes:
            missing = [p for p in reversed(change.path.parents) if not p.exists()]
            for folder in missing:
                folder.mkdir()
                made.append(folder)
            if change.extends:
                kept[change.path] = change.path.read_text(encoding="utf-8")
            else:
                made.append(change.path)
            change.path.write_text(change.text, encoding="utf-8", newline="\n")
    except OSError:
        for path, text in kept.items():
            path.write_text(text, encoding="utf-8", newline="\n")
        for path in reversed(made):
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        raise


def run(args, ws, style) -> int:
    wanted = names(args.kata, args.title, args.rule, args.extend)
    problem = taken(ws.root, wanted)
    if problem:
        raise _common.UsageError(problem)
    page = ws.docs_dir / "rules" / f"{wanted.rule}.md"
    shown = ws.display(page)
    if wanted.extend and not page.is_file():
        raise _common.UsageError(f"{shown} does not exist: --extend names an existing rule page (or use --rule)")
    if not wanted.extend and page.exists():
        raise _common.UsageError(f"{shown} exists: add the kata to it with --extend {wanted.rule}, or name a new page")
    text = page.read_text(encoding="utf-8") if wanted.extend else None
    if text is not None and not KATA_SECTION.search(text):
        raise _common.UsageError(f"{shown} has no '## Kata' section to add the kata to")
    changes = plan(ws.root, wanted, rule_page=text)
    clash = next((c.path for c in changes if not c.extends and c.path.exists()), None)
    if clash:
        raise _common.UsageError(f"{ws.display(clash)} exists: nothing was written")
    try:
        write(changes)
    except OSError as exc:
        raise _common.UsageError(f"cannot write the kata ({exc}): nothing was written") from None

    print(style.strong(f"Made kata {wanted.number}: {wanted.title}"))
    for change in changes:
        print(f"  {'extended' if change.extends else 'created '} {ws.display(change.path)}")
    print(
        f"\nIt runs as it is: a small example whose start fails with MissingGreenlet. Every line marked "
        f"{PLACEHOLDER} is yours to rewrite.\nNext steps:"
    )

    def display(rel: str) -> str:
        return ws.display(ws.root / rel)

    for number, step in enumerate(next_steps(wanted, display), 1):
        print(f"  {number}. {step}")
    return 0
