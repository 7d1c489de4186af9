"""The docs are executable: this file keeps them honest.

* Every ```python block in docs/**/*.md runs. The blocks of one page run in
  order, in one shared namespace (one module per page), in a fresh Python
  process, so a page can define its models once and build on them. A block
  that shows an error catches it and asserts on it; a block that raises fails
  the page, and the traceback points at the line in the .md file.
* Every ``nox -s NAME`` and ``python -m runner CMD`` in a ```console/```bash
  block, or in inline code, must name something that exists.
* Relative links between pages must resolve.
* Every rule a kata trains (``rules = [...]`` in runner/checks/*/kata.toml)
  has a page docs/rules/<slug>.md with the six sections, whose Kata section
  names each kata that trains it; every rule page is linked from docs/index.md.
* A rule page's first screen is the rule, the symptom and the fix, in a few
  lines; its setup code is folded in <details> (and still runs), and the code
  its Fix names is code the page runs.
* The mechanism and explainer pages draw the await chain (Mermaid), naming
  each link of it and the read that falls outside it.
* An incident write-up's "Option X" is quoted only where a kata's story shows it.

Run one page by hand, outside pytest:

    python tests/test_docs.py docs/mechanism.md
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RULES = DOCS / "rules"
KATAS = ROOT / "katas"
CHECKS = ROOT / "runner" / "checks"

# --- What the docs may name: what the runner and the noxfile declare ---------
# (imported lazily: this file also runs as a plain script, one page at a time)


def runner_commands() -> set[str]:
    from runner.cli import COMMANDS

    return {command.NAME for command in COMMANDS}


# The sections every rule page has, in this order.
RULE_SECTIONS = ["Symptom", "Mechanism", "Fixes", "Trade-offs", "Catch it early", "Kata"]

# Fence languages the docs may use. ``python`` runs; ``console``/``bash`` hold
# commands (checked); ``mermaid`` is a diagram GitHub draws (checked below);
# ``text`` and ``toml`` are shown as they are. An untagged fence is an error:
# it would be neither run nor checked.
FENCE_LANGUAGES = {"python", "console", "bash", "mermaid", "text", "toml"}

PAGE_TIMEOUT = 120  # seconds, per page


def nox_sessions() -> set[str]:
    """The sessions a page may name: every session the noxfile declares (kata-NN included)."""
    import nox.registry

    import noxfile  # noqa: F401 - importing it registers the sessions

    return set(nox.registry.get())


# --- Reading the pages -------------------------------------------------------


@dataclass
class Block:
    language: str
    code: str
    line: int  # line number, in the .md file, of the block's first code line


FENCE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")


def fenced_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE_RE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, language = match["fence"], match["info"].lower()
        start = i + 1
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start}: fence {fence} is never closed")
        blocks.append(Block(language, "\n".join(lines[start:i]) + "\n", start + 1))
        i += 1
    return blocks


def prose(text: str) -> str:
    """The page without its fenced blocks (each replaced by a blank line)."""
    out, inside, fence = [], False, ""
    for line in text.splitlines():
        match = FENCE_RE.match(line)
        if not inside and match:
            inside, fence = True, match["fence"]
            out.append("")
        elif inside and line.startswith(fence):
            inside = False
            out.append("")
        elif not inside:
            out.append(line)
        else:
            out.append("")
    return "\n".join(out)


def headings(text: str, level: int = 2) -> list[str]:
    marker = "#" * level + " "
    return [line[len(marker) :].strip() for line in prose(text).splitlines() if line.startswith(marker)]


def section(text: str, title: str) -> str:
    """The prose and blocks under ``## title``, up to the next ``## ``."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.S | re.M)
    return match.group(1) if match else ""


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


# --- Running a page's python blocks (in a child process) ---------------------


def run_page(page: Path) -> None:
    """Execute the page's python blocks in order, in one module namespace."""
    # A page must not teach code that SQLAlchemy warns about.
    from sqlalchemy.exc import SAWarning

    warnings.simplefilter("error", SAWarning)
    # SQLAlchemy 2.1 + aiosqlite leaves one never-awaited coroutine behind per
    # MissingGreenlet; the pages that show errors would flood a failure report
    # with these. docs/mechanism.md records and checks the warning itself.
    warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
    name = "docs_" + re.sub(r"\W", "_", page.relative_to(DOCS).with_suffix("").as_posix())
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module  # so dataclasses, typing and the ORM can find it
    blocks = [b for b in fenced_blocks(page.read_text(encoding="utf-8")) if b.language == "python"]
    for number, block in enumerate(blocks, 1):
        # Pad with newlines so tracebacks show the .md file's own line numbers.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        started = time.perf_counter()
        try:
            exec(code, module.__dict__)
        except BaseException:
            print(f"{page_id(page)}:{block.line}: python block {number} failed", file=sys.stderr)
            raise
        print(f"block {number} (line {block.line}) ok in {time.perf_counter() - started:.2f}s")
        # Finalize leftovers (such as the coroutine SQLAlchemy 2.1 + aiosqlite
        # never awaits) here, rather than at a random point in the next block;
        # then freeze the survivors, so the next collection scans only new objects.
        gc.collect()
        gc.freeze()


# --- The tests -----------------------------------------------------------------

NOX_RE = re.compile(r"\bnox\b[^\n`|;&]*?\s(?:-s|--session|-e)\s+([\w.-]+)")
RUNNER_RE = re.compile(r"\bpython[\d.]*\s+-m\s+runner(?:\s+([\w-]+))?")
INLINE_CODE_RE = re.compile(r"`([^`\n]+)`")
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def commands(page: Path) -> list[tuple[int, str]]:
    """(line, command text) for each console/bash line and each inline code span."""
    text = page.read_text(encoding="utf-8")
    found = []
    for block in fenced_blocks(text):
        if block.language in {"console", "bash"}:
            for offset, line in enumerate(block.code.splitlines()):
                found.append((block.line + offset, line))
    for number, line in enumerate(prose(text).splitlines(), 1):
        for span in INLINE_CODE_RE.findall(line):
            found.append((number, span))
    return found


def kata_rules() -> dict[str, list[Path]]:
    """rule slug -> the kata folders under runner/checks whose kata.toml names it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib

    def find_rules(table: dict) -> list[str]:
        rules = list(table.get("rules", []))
        for value in table.values():
            if isinstance(value, dict):
                rules += find_rules(value)
        return rules

    found: dict[str, list[Path]] = {}
    for toml in sorted(CHECKS.glob("*/kata.toml")):
        for slug in find_rules(tomllib.loads(toml.read_text(encoding="utf-8"))):
            found.setdefault(slug, []).append(toml.parent)
    return found


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_page(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = fenced_blocks(text)

    untagged = [b.line - 1 for b in blocks if b.language not in FENCE_LANGUAGES]
    assert not untagged, f"{page_id(page)}: fences at lines {untagged} need a language from {sorted(FENCE_LANGUAGES)}"

    sessions = nox_sessions()
    for line, command in commands(page):
        for session in NOX_RE.findall(command):
            assert session in sessions, (
                f"{page_id(page)}:{line}: `nox -s {session}` names no session; known: {sorted(sessions)}"
            )
        for match in RUNNER_RE.finditer(command):
            assert match[1] in runner_commands(), (
                f"{page_id(page)}:{line}: `python -m runner {match[1] or ''}` names "
                f"no runner command; known: {sorted(runner_commands())}"
            )

    for target in LINK_RE.findall(prose(text)):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (page.parent / target.split("#")[0]).exists(), f"{page_id(page)}: link to {target} resolves to nothing"

    if any(b.language == "python" for b in blocks):
        result = subprocess.run(
            [sys.executable, __file__, str(page)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT,
        )
        assert result.returncode == 0, f"{page_id(page)}: a python block failed\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("slug", sorted(kata_rules()))
def test_every_rule_a_kata_trains_has_a_page(slug: str) -> None:
    page = RULES / f"{slug}.md"
    assert page.exists(), f"a kata trains rule {slug!r}, but {page_id(page)} does not exist"
    assert headings(page.read_text(encoding="utf-8")) == RULE_SECTIONS
    kata_section = section(page.read_text(encoding="utf-8"), "Kata")
    for kata in kata_rules()[slug]:
        session = f"kata-{kata.name[:2]}"
        assert f"nox -s {session}" in kata_section, (
            f"{page_id(page)}: {kata.name} trains this rule; its Kata section should name `nox -s {session}`"
        )


@pytest.mark.parametrize("page", sorted(RULES.glob("*.md")), ids=page_id)
def test_rule_page_has_the_six_sections(page: Path) -> None:
    assert headings(page.read_text(encoding="utf-8")) == RULE_SECTIONS


@pytest.mark.parametrize("page", sorted(RULES.glob("*.md")), ids=page_id)
def test_rule_page_is_linked_from_the_index(page: Path) -> None:
    index = prose((DOCS / "index.md").read_text(encoding="utf-8"))
    targets = {target.split("#")[0] for target in LINK_RE.findall(index)}
    assert page.relative_to(DOCS).as_posix() in targets, (
        f"docs/index.md does not link to {page.relative_to(DOCS).as_posix()}"
    )


# --- A newcomer's first screen ------------------------------------------------------

FIRST_SCREEN_WORDS = 200  # the rule, the symptom and the fix: about one screen of prose
FIRST_SCREEN_MARKERS = ["**Rule:**", "**Symptom:**", "**Fix:**"]
DETAILS_RE = re.compile(r"<details>\s*<summary>(?P<summary>.*?)</summary>(?P<body>.*?)</details>", re.S)


def first_screen(text: str) -> str:
    """What a reader sees before scrolling: the page up to its first ``## ``, each <details> folded to its summary."""
    head = re.split(r"^## ", text, maxsplit=1, flags=re.M)[0]
    return DETAILS_RE.sub(lambda match: match["summary"], head)


def squeezed(code: str) -> str:
    return re.sub(r"\s+", "", code)


@pytest.mark.parametrize("page", sorted(RULES.glob("*.md")), ids=page_id)
def test_rule_page_opens_with_the_rule_the_symptom_and_the_fix(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    screen = first_screen(text)
    found = [screen.find(marker) for marker in FIRST_SCREEN_MARKERS]
    assert -1 not in found and found == sorted(found), (
        f"{page_id(page)}: before its first section the page says {' then '.join(FIRST_SCREEN_MARKERS)}"
    )
    assert not fenced_blocks(screen), f"{page_id(page)}: code before the first section belongs in a <details>"
    words = len(screen.split())
    assert words <= FIRST_SCREEN_WORDS, (
        f"{page_id(page)}: the first screen has {words} words (at most {FIRST_SCREEN_WORDS})"
    )
    head = re.split(r"^## ", text, maxsplit=1, flags=re.M)[0]
    folded = [match["body"] for match in DETAILS_RE.finditer(head)]
    assert any(b.language == "python" for body in folded for b in fenced_blocks(body)), (
        f"{page_id(page)}: the setup code goes in a <details> before the first section"
    )
    # The Fix shows code the page runs: every call it names appears in a python block.
    fix = screen[screen.index("**Fix:**") :]
    ran = squeezed("".join(b.code for b in fenced_blocks(text) if b.language == "python"))
    # (A bare name such as `get()` names a function; `...` marks an elision.)
    calls = [s for s in INLINE_CODE_RE.findall(fix) if "(" in s and "..." not in s and not s.endswith("()")]
    assert calls, f"{page_id(page)}: the Fix names no code"
    for span in calls:
        assert squeezed(span) in ran, f"{page_id(page)}: the Fix's `{span}` is not in any python block the page runs"


# --- The await chain, drawn --------------------------------------------------------

# Each link of the chain, in order, and the read that falls outside it.
AWAIT_CHAIN = ["your coroutine", "greenlet_spawn()", "ORM code", "await_()", "driver"]
MERMAID_STATEMENT_RE = re.compile(
    r"""^\s*(?:
        sequenceDiagram|flowchart\s+(?:LR|TD|TB|RL|BT)
        |participant\s+\w+\s+as\s+.+
        |Note\s+(?:over|left\s+of|right\s+of)\s+\w+(?:,\w+)?:\s*.+
        |\w+\s*(?:->>|-->>|-x|--x|->|-->)\s*\w+:\s*.+
        |\w+(?:\["[^"]+"\])?(?:\s*(?:--\s*"[^"]+"\s*-->|-->|-\.\s*"[^"]+"\s*\.->|-\.->)\s*\w+(?:\["[^"]+"\])?)+
    )\s*$""",
    re.X,
)


def mermaid_blocks(page: Path) -> list[Block]:
    return [b for b in fenced_blocks(page.read_text(encoding="utf-8")) if b.language == "mermaid"]


@pytest.mark.parametrize("page", [DOCS / "mechanism.md", DOCS / "explainer.md"], ids=page_id)
def test_the_await_chain_is_drawn(page: Path) -> None:
    diagrams = mermaid_blocks(page)
    assert diagrams, f"{page_id(page)}: no ```mermaid diagram of the await chain"
    diagram = diagrams[0].code
    positions = [diagram.find(link) for link in AWAIT_CHAIN]
    assert -1 not in positions and positions == sorted(positions), (
        f"{page_id(page)}: the diagram names the chain in order: {' -> '.join(AWAIT_CHAIN)}"
    )
    outside = diagram[positions[-1] :]
    assert "MissingGreenlet" in outside and re.search(r"\w+\.\w+.*not loaded", outside), (
        f"{page_id(page)}: the diagram shows an attribute read falling outside the chain, with MissingGreenlet"
    )


@pytest.mark.parametrize("page", [p for p in pages() if mermaid_blocks(p)], ids=page_id)
def test_mermaid_diagrams_use_known_statements(page: Path) -> None:
    """Only the statement forms these diagrams use, each checked with Mermaid's own parser when written.

    A line Mermaid cannot parse makes GitHub show an error box instead of the diagram.
    """
    for block in mermaid_blocks(page):
        for offset, line in enumerate(block.code.splitlines()):
            assert not line.strip() or MERMAID_STATEMENT_RE.match(line), (
                f"{page_id(page)}:{block.line + offset}: not a Mermaid statement the diagrams use: {line.strip()}"
            )


# --- What the write-ups said -----------------------------------------------------

OPTION_RE = re.compile(r"\bOption [A-Z0-9]\b")


def test_a_write_ups_option_is_quoted_only_where_a_story_shows_it() -> None:
    shown = {m for readme in KATAS.glob("*/README.md") for m in OPTION_RE.findall(readme.read_text(encoding="utf-8"))}
    for path in [*pages(), *sorted((ROOT / "solutions").glob("*/SOLUTION.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for label in set(OPTION_RE.findall(line)) - shown:
                raise AssertionError(
                    f"{page_id(path)}:{number}: {label!r} names a write-up's option no kata story shows: "
                    "quote what it says instead"
                )


if __name__ == "__main__":
    run_page(Path(sys.argv[1]).resolve())
