"""Everything the runner prints, as pure functions from data to text."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from implicit_io import text
from runner import progress, results
from runner.catalogue import Kata

RULES_DIR = "docs/rules"
# A facilitator turns the literal Fix on for a room; otherwise it is the last hint (runner/hints.py).
SHOW_FIX_VARIABLE = "KATAS_SHOW_FIX"


def show_fix() -> bool:
    """Whether a failing check prints the literal Fix: only when KATAS_SHOW_FIX is set to 1 (or yes, true, on)."""
    return os.environ.get(SHOW_FIX_VARIABLE, "").strip().lower() in ("1", "yes", "true", "on")


@dataclass(frozen=True)
class Style:
    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream=None) -> Style:
        """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
        stream = stream or sys.stdout
        tty = hasattr(stream, "isatty") and stream.isatty()
        color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        try:
            "✓✗→".encode(getattr(stream, "encoding", None) or "ascii")
            unicode = True
        except (LookupError, UnicodeEncodeError):
            unicode = False  # an old Windows console code page
        return cls(color=bool(color), unicode=unicode)

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def good(self, text: str) -> str:
        return self._paint("32", text)

    def bad(self, text: str) -> str:
        return self._paint("31", text)

    def strong(self, text: str) -> str:
        return self._paint("1", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)

    @property
    def tick(self) -> str:
        return self.good("✓" if self.unicode else "ok")

    @property
    def cross(self) -> str:
        return self.bad("✗" if self.unicode else "x ")


def rule_page(slug: str) -> str:
    return f"{RULES_DIR}/{slug}.md"


def passing(passed: int, total: int) -> str:
    """'2 of 3 checks pass', '1 of 3 checks passes', '0 of 1 check pass'."""
    return f"{passed} of {text.plural(total, 'check')} {'passes' if passed == 1 else 'pass'}"


def heading(kata: Kata, style: Style) -> str:
    return style.strong(f"Kata {kata.number}: {kata.title}")


def _attribute_sentence(attribute: dict, cause: str | None = None) -> str:
    return text.attribute_sentence(attribute, cause)


def explain_failure(failure: dict, kata_dir: str, style: Style, with_fix: bool | None = None) -> list[str]:
    """One failure's explanation: What, Where, Why and the Rule (implicit_io/text.py writes it).

    The literal Fix is the last hint, unless the room shows it (``with_fix``, default KATAS_SHOW_FIX):
    the team plugin, whose readers want the answer, always shows it.
    """
    return text.explanation_lines(failure, kata_dir, style, show_fix=show_fix() if with_fix is None else with_fix)


def explain_review(review: dict | None, kata_dir: str, style: Style) -> list[str]:
    """A reviewer's notes on a passing run: statements per check, growth with data, caught failures."""
    lines = text.review_lines(review or {}, kata_dir, style)
    return [style.strong("How your fix works"), *lines] if lines else []


def render_check(
    kata: Kata,
    result: results.CheckResult,
    style: Style,
    kata_dir: str,
    next_kata: Kata | None = None,
    note: str | None = None,
) -> str:
    out = [heading(kata, style), ""]
    if note:
        out += [style.dim(note), ""]
    if result.status == results.SYNTAX:
        out.append(style.bad("Your code does not parse yet:"))
        for problem in result.problems:
            loc = problem.get("location") or {}
            out.append(f"  {kata_dir}/{loc.get('file')}:{loc.get('line')}: {problem['exception']}")
            if loc.get("source"):
                out.append(style.dim(f"      {loc['source']}"))
        out += ["", "Fix the syntax, then run the check again."]
        return "\n".join(out)
    if result.status == results.TIMEOUT:
        running = f" while checking: {result.running}" if result.running else ""
        out += [
            style.bad(f"The check did not finish within {result.detail} s{running}."),
            "Something in your code waits forever: a session or connection left open and waited on,",
            "an await on something that never completes, or a loop that never ends.",
        ]
        return "\n".join(out)
    if result.status == results.BROKEN:
        out += [style.bad("The check could not run. Its last output:"), result.detail or "(nothing)"]
        out += ["", "If this looks like a problem with your setup: python -m runner check --verbose " + kata.number]
        return "\n".join(out)

    for scenario in result.scenarios:
        out.append(f"  {style.tick if scenario.passed else style.cross} {scenario.name}")
    passed = sum(s.passed for s in result.scenarios)
    total = len(result.scenarios)
    if result.passed:
        every = f"All {total} checks pass" if total != 1 else "The check passes"
        out += ["", style.good(f"{every}. Kata {kata.number} is done.")]
        review = explain_review(result.review, kata_dir, style)
        if review:
            out += ["", *review, ""]
        out.append(f"  The reference fix, as a diff against yours: python -m runner solution {kata.number}")
        if next_kata:
            out.append(f"  Next: kata {next_kata.number}, {next_kata.title}: nox -s {next_kata.session}")
        else:
            out.append("  That was the last kata. Well done.")
        return "\n".join(out)

    if total:
        out += ["", f"{passing(passed, total)}."]
    failures = results.distinct_failures(result)
    if failures:
        out += ["", style.strong("Why it fails")]
        shown = failures[:3]
        for failure in shown:
            out += ["  " + line for line in explain_failure(failure, kata_dir, style)]
            out.append("")
        if len(failures) > len(shown):
            out.append(style.dim(f"  … and {len(failures) - len(shown)} more; --verbose shows everything."))
            out.append("")
    if kata.rules:
        out.append("Read: " + ", ".join(rule_page(r) for r in kata.rules))
    if not show_fix() and any(_has_fix(f) for f in failures):
        out.append(f"Stuck? A hint: nox -s {kata.session} -- hint (the last one is the fix itself)")
    else:
        out.append(f"Stuck? A hint: nox -s {kata.session} -- hint")
    return "\n".join(out).rstrip()


def _has_fix(failure: dict) -> bool:
    return bool(failure.get("fix") or (failure.get("behind") or {}).get("fix"))


def render_hint(kata: Kata, tiers: Sequence[str], first: int, revealed: int, style: Style, about: str = "") -> str:
    """Tiers ``first`` to ``revealed`` of a ladder (runner/hints.py), numbered, and what comes next."""
    total = len(tiers)
    if not total:
        return f"Kata {kata.number} has no hints."
    out = [heading(kata, style), ""]
    if about:
        out += [style.dim(f"Hints for: {about}"), ""]
    for index in range(first, revealed):
        out.append(style.strong(f"Hint {index + 1} of {total}"))
        out.append(tiers[index])
        out.append("")
    if revealed < total:
        out.append(style.dim(f"Run it again for hint {revealed + 1}."))
    else:
        out.append(style.dim("That is the last hint." + (f" Read: {rule_page(kata.rules[0])}" if kata.rules else "")))
    return "\n".join(out).rstrip()


def render_list(katas: Sequence[Kata], state: dict, style: Style) -> str:
    if not katas:
        return "No katas found."
    current = progress.first_unfinished(katas, state)
    out = []
    for kata in katas:
        item = progress.entry(state, kata.id)
        if item["passed_at"]:
            mark = style.tick
        elif current and kata.id == current.id:
            mark = style.strong("→" if style.unicode else ">")
        else:
            mark = " "
        out.append(f"{mark} {kata.number}  {kata.title:<52} nox -s {kata.session}")
    done = sum(progress.is_done(state, k.id) for k in katas)
    out += ["", f"{done} of {text.plural(len(katas), 'kata')} done."]
    if current:
        out.append(f"Next: nox -s {current.session}")
    return "\n".join(out)


def render_progress(katas: Sequence[Kata], state: dict, style: Style) -> str:
    out = [f"{'kata':<6}{'status':<10}{'checks':>7}{'hints':>7}  time to pass"]
    for kata in katas:
        item = progress.entry(state, kata.id)
        if item["passed_at"]:
            status = "done"
        elif item["checks"]:
            status = "started"
        else:
            status = "-"
        took = _duration(item["passed_at"] - item["first_check"]) if item["passed_at"] and item["first_check"] else ""
        cell = style.good(f"{status:<10}") if status == "done" else f"{status:<10}"
        out.append(f"{kata.number:<6}{cell}{item['checks']:>7}{item['hints']:>7}  {took}")
    done = sum(progress.is_done(state, k.id) for k in katas)
    out += ["", f"{done} of {text.plural(len(katas), 'kata')} done."]
    return "\n".join(out)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
