"""Workshop logic, as pure functions: catch-up plans, learners' reports, the facilitator's summary.

A *report* is what one learner hands in: one small JSON document, written
by ``python -m runner report --json -o FILE``::

    {"format": "async-sqlalchemy-katas report", "version": 1,
     "learner": "Ada" | null, "written_at": "2026-11-01T18:00:00+00:00",
     "katas": [{"id": "01-command-center", "number": "01", "title": "…",
                "status": "passed" | "caught-up" | "started" | "not-started",
                "checks": 3, "hints": 1, "hints_total": 4,
                "seconds_to_pass": 312.5 | null,
                "failures": ["the list's customer", …], "fixed": ["the list's customer"]}]}

``failures`` are the failures a kata names (kata.toml ``[[failures]]``: the
capstone hides four) and ``fixed`` those the learner's last check showed fixed;
both are empty for a kata that names none, and absent from reports written
before they existed.

``summarize`` reads many of them; ``parse_report`` says, in one line, why a
file is not one it can read (damaged, a progress file, an older or newer
format), and the summary names and skips it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from implicit_io.text import plural
from runner import progress
from runner.catalogue import Kata
from runner.render import Style

REPORT_FORMAT = "async-sqlalchemy-katas report"
REPORT_VERSION = 1
STATUSES = ("passed", "caught-up", "started", "not-started")
FINISHED = ("passed", "caught-up")


class ReportError(ValueError):
    """A file that is not a report this runner can read; the message says why, in one line."""


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


# --- Catch-up ---------------------------------------------------------------------------------


def catch_up_candidates(katas: Sequence[Kata], state: dict, target: Kata) -> list[Kata]:
    """The katas before ``target`` that are not finished: each may need the reference fix."""
    before = [k for k in katas if k.number < target.number]
    return [k for k in before if not progress.is_finished(state, k.id)]


def files_to_replace(solution: dict[str, bytes], current: dict[str, bytes]) -> list[str]:
    """The solution's files that differ from the learner's (or that the learner does not have)."""
    return sorted(rel for rel, data in solution.items() if current.get(rel) != data)


# --- One learner's report ---------------------------------------------------------------------


def build_report(katas: Sequence[Kata], state: dict, now: float, learner: str | None = None) -> dict:
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "learner": learner,
        "written_at": datetime.fromtimestamp(now, tz=timezone.utc).isoformat(timespec="seconds"),
        "katas": [
            {
                "id": kata.id,
                "number": kata.number,
                "title": kata.title,
                "status": progress.status(state, kata.id),
                "checks": progress.entry(state, kata.id)["checks"],
                "hints": min(progress.entry(state, kata.id)["hints"], len(kata.hints)),
                "hints_total": len(kata.hints),
                "seconds_to_pass": progress.seconds_to_pass(state, kata.id),
                "failures": [f["name"] for f in kata.failures],
                "fixed": _fixed(kata, state),
            }
            for kata in katas
        ],
    }


def _fixed(kata: Kata, state: dict) -> list[str]:
    """The kata's failures the last check showed fixed, in the kata's order (a name since dropped is not one)."""
    fixed = set(progress.entry(state, kata.id)["fixed"])
    return [f["name"] for f in kata.failures if f["name"] in fixed]


def render_report(report: dict, style: Style) -> str:
    rows = [f"{'kata':<6}{'status':<13}{'checks':>7}{'hints':>8}  time to pass"]
    for item in report["katas"]:
        status = item["status"]
        cell = f"{status:<13}"
        if status == "passed":
            cell = style.good(cell)
        hints = f"{item['hints']}/{item['hints_total']}" if item["hints_total"] else "-"
        title = f"  {item['title']}"
        rows.append(
            f"{item['number']:<6}{cell}{item['checks']:>7}{hints:>8}  {duration(item['seconds_to_pass']):<12}"
            + style.dim(title)
        )
    done = sum(item["status"] in FINISHED for item in report["katas"])
    rows += ["", f"{done} of {plural(len(report['katas']), 'kata')} finished."]
    for item in report["katas"]:
        if item.get("failures") and item["status"] != "not-started":
            fixed = item.get("fixed") or []
            found = f": {', '.join(fixed)}" if fixed else ""
            rows.append(f"Kata {item['number']}: {len(fixed)} of {len(item['failures'])} failures fixed{found}.")
    return "\n".join(rows)


def _number(value: object, where: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ReportError(f"damaged: {where} is not a number")


def parse_report(doc: object) -> dict:
    """The report, checked field by field; ReportError says why it cannot be read."""
    if not isinstance(doc, dict):
        raise ReportError("not a report: the file holds no JSON object")
    if doc.get("format") != REPORT_FORMAT:
        if isinstance(doc.get("katas"), dict):
            raise ReportError(
                "a progress file (.katas/state.json), not a report: ask for python -m runner report --json -o FILE"
            )
        raise ReportError("not a katas report (its format field is missing or different)")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ReportError("damaged: its version is not a number")
    if version < REPORT_VERSION:
        raise ReportError(f"an older report format (version {version}): ask for a new one")
    if version > REPORT_VERSION:
        raise ReportError(f"a newer report format (version {version}): update this checkout (git pull)")
    katas = doc.get("katas")
    if not isinstance(katas, list):
        raise ReportError("damaged: katas is not a list")
    for index, item in enumerate(katas):
        where = f"katas[{index}]"
        if not isinstance(item, dict):
            raise ReportError(f"damaged: {where} is not an object")
        for key in ("id", "number", "title"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ReportError(f"damaged: {where}.{key} is missing")
        if item.get("status") not in STATUSES:
            raise ReportError(f"damaged: {where}.status is {item.get('status')!r}")
        for key in ("checks", "hints", "hints_total"):
            _number(item.get(key), f"{where}.{key}")
        _number(item.get("seconds_to_pass"), f"{where}.seconds_to_pass", allow_none=True)
        for key in ("failures", "fixed"):  # absent from reports written before kata 10 named its failures
            names = item.get(key, [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise ReportError(f"damaged: {where}.{key} is not a list of names")
    learner = doc.get("learner")
    if learner is not None and not isinstance(learner, str):
        raise ReportError("damaged: learner is not a name")
    return doc


# --- Many learners' reports: the facilitator's summary ----------------------------------------


@dataclass
class KataRow:
    number: str
    title: str
    learners: int = 0
    passed: int = 0
    caught_up: int = 0
    on_it: int = 0  # learners for whom this is the first unfinished kata
    stuck: int = 0  # ... who have checked it at least once without passing
    checks_to_pass: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    hinted: int = 0  # learners who revealed at least one hint
    hint_levels: Counter = field(default_factory=Counter)  # hint number -> learners who revealed it
    hints_total: int = 0
    failures: list[str] = field(default_factory=list)  # the failures the kata names, in its order
    fixed: Counter = field(default_factory=Counter)  # failure -> learners whose last check showed it fixed
    working: int = 0  # learners who checked it themselves (neither untouched nor caught up): whose fixes count


@dataclass
class Summary:
    learners: int
    rows: list[KataRow]
    skipped: list[tuple[str, str]]  # (file, reason)

    @property
    def most_stuck(self) -> KataRow | None:
        stuck = [r for r in self.rows if r.on_it]
        return max(stuck, key=lambda r: (r.on_it, r.stuck), default=None)

    def hints_needed(self, top: int = 5) -> list[tuple[KataRow, int, int]]:
        """(kata, hint number, learners who needed it), most needed first."""
        found = [(row, level, count) for row in self.rows for level, count in row.hint_levels.items() if count]
        return sorted(found, key=lambda t: (-t[2], t[0].number, t[1]))[:top]


def summarize(reports: Sequence[tuple[str, dict]], skipped: Sequence[tuple[str, str]] = ()) -> Summary:
    """Reports already checked by parse_report, as (file name, report)."""
    rows: dict[str, KataRow] = {}
    for _, report in reports:
        items = sorted(report["katas"], key=lambda i: i["number"])
        current = next((i for i in items if i["status"] not in FINISHED), None)
        for item in items:
            row = rows.setdefault(item["id"], KataRow(number=item["number"], title=item["title"]))
            row.learners += 1
            row.hints_total = max(row.hints_total, int(item["hints_total"]))
            if item["status"] == "passed":
                row.passed += 1
                row.checks_to_pass.append(int(item["checks"]))
                if item["seconds_to_pass"] is not None:
                    row.times.append(float(item["seconds_to_pass"]))
            elif item["status"] == "caught-up":
                row.caught_up += 1
            if item is current:
                row.on_it += 1
                row.stuck += item["checks"] > 0
            for name in item.get("failures", []):
                if name not in row.failures:
                    row.failures.append(name)
            # A caught-up kata's fixes are the reference solution's, not the learner's: not counted.
            if item.get("failures") and item["status"] in ("passed", "started") and item["checks"]:
                row.working += 1
                row.fixed.update(set(item.get("fixed", [])) & set(item["failures"]))
            if item["hints"]:
                row.hinted += 1
                for level in range(1, int(item["hints"]) + 1):
                    row.hint_levels[level] += 1
    ordered = sorted(rows.values(), key=lambda r: r.number)
    return Summary(learners=len(reports), rows=ordered, skipped=list(skipped))


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def render_summary(summary: Summary, style: Style) -> str:
    out = []
    if summary.learners:
        out.append(style.strong(plural(summary.learners, "learner report")))
        out.append("")
        out.append(
            f"{'kata':<6}{'passed':>8}{'caught up':>11}{'on it':>7}{'stuck':>7}"
            f"{'checks':>8}{'hinted':>8}  median time to pass"
        )
        for row in summary.rows:
            checks = _median(row.checks_to_pass)
            out.append(
                f"{row.number:<6}{f'{row.passed}/{row.learners}':>8}{row.caught_up:>11}{row.on_it:>7}{row.stuck:>7}"
                f"{'' if checks is None else f'{checks:g}':>8}{row.hinted:>8}  {duration(_median(row.times)):<12}"
                + style.dim(f"  {row.title}")
            )
        out.append("")
        out.append(
            style.dim("on it: the first kata a learner has not finished; stuck: ... and has checked it without passing")
        )
        out.append(style.dim("checks: median checks run before the pass; hinted: learners who revealed a hint"))
        out.append("")
        worst = summary.most_stuck
        if worst is None:
            out.append("Everyone has finished every kata.")
        else:
            out.append(
                style.strong(
                    f"Most learners are on kata {worst.number}, {worst.title}: {worst.on_it} of {summary.learners}"
                    f" ({worst.stuck} of them {'has' if worst.stuck == 1 else 'have'} checked it without passing)."
                )
            )
        for row in summary.rows:
            if row.failures and row.working:
                learners = plural(row.working, "learner")
                out.append(f"Failures fixed in kata {row.number}, by the {learners} who checked it:")
                width = max(len(name) for name in row.failures)
                digits = len(str(row.working))
                out += [f"  {name:<{width}}  {row.fixed[name]:>{digits}} of {row.working}" for name in row.failures]
        needed = summary.hints_needed()
        if needed:
            out.append("Hints needed most:")
            for row, level, count in needed:
                learners = plural(row.learners, "learner")
                out.append(f"  kata {row.number} hint {level} of {row.hints_total}: {count} of {learners}")
        else:
            out.append("No hints were needed.")
    else:
        out.append("No report could be read.")
    if summary.skipped:
        out += ["", style.bad(f"Skipped {plural(len(summary.skipped), 'file')}:")]
        out += [f"  {name}: {reason}" for name, reason in summary.skipped]
    return "\n".join(out)
