"""The outcome of one check, as plain data the renderer and the tests read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PASS, FAIL, TIMEOUT, SYNTAX, BROKEN = "pass", "fail", "timeout", "syntax-error", "could-not-run"


@dataclass(frozen=True)
class Scenario:
    name: str
    passed: bool
    failure: dict | None = None


@dataclass(frozen=True)
class CheckResult:
    status: str
    scenarios: tuple[Scenario, ...] = ()
    problems: tuple[dict, ...] = ()  # failures outside any scenario: syntax and import errors
    detail: str = ""  # what the runner knows beyond that (the time limit, the tail of pytest's output)
    running: str | None = None  # the scenario a timed-out check was in
    output: str = field(default="", repr=False)
    review: dict | None = field(default=None, repr=False)  # the reviewer's notes on the run (implicit_io)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def failures(self) -> list[dict]:
        return [s.failure for s in self.scenarios if s.failure] + list(self.problems)


def from_report(report: dict | None, returncode: int, output: str = "") -> CheckResult:
    """Turn the plugin's JSON and pytest's exit code into a verdict."""
    if report and report.get("collection_errors") and not report.get("finished"):
        # pytest stopped early (a kata conftest could not import the learner's code)
        return CheckResult(status=FAIL, problems=tuple(report["collection_errors"]), output=output)
    if not report or not report.get("finished"):
        tail = "\n".join(output.strip().splitlines()[-12:])
        return CheckResult(status=BROKEN, detail=tail, output=output)
    scenarios = tuple(
        Scenario(name=t["name"], passed=t["outcome"] == "passed", failure=t.get("failure"))
        for t in report["tests"]
        if t["outcome"] != "skipped"
    )
    problems = tuple(report.get("collection_errors", ()))
    # Zero scenarios is never a pass: a check that ran nothing proved nothing.
    ok = returncode == 0 and scenarios and all(s.passed for s in scenarios) and not problems
    return CheckResult(
        status=PASS if ok else FAIL, scenarios=scenarios, problems=problems, output=output, review=report.get("review")
    )


def distinct_failures(result: CheckResult) -> list[dict]:
    """One entry per distinct cause: nine checks failing on one line are one problem."""
    seen, unique = set(), []
    for failure in result.failures:
        location = failure.get("location") or {}
        attribute = failure.get("attribute") or {}
        key = (
            failure.get("kind"),
            location.get("file"),
            location.get("line"),
            attribute.get("model"),
            attribute.get("key"),
            failure.get("message") if failure.get("kind") == "assertion" else failure.get("exception"),
        )
        if key not in seen:
            seen.add(key)
            unique.append(failure)
    return unique


def fixed_failures(failures: Sequence[dict], result: CheckResult) -> list[str]:
    """The kata's named failures (``Kata.failures``) this check shows fixed: every check that covers one ran and passed.

    Each part of a failure's ``checks`` must match a scenario that ran, so a check
    stopped early (a time limit) never counts a failure whose checks did not run.
    """
    fixed = []
    for failure in failures:
        covering = [[s for s in result.scenarios if part in s.name] for part in failure["checks"]]
        if all(covering) and all(s.passed for scenarios in covering for s in scenarios):
            fixed.append(failure["name"])
    return fixed
