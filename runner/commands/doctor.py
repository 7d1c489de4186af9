"""doctor: check this laptop can run the katas, and say what to do about each problem."""

from __future__ import annotations

NAME = "doctor"
HELP = "check Python, the environment, the database, the terminal and file events; name what to fix"


def configure(parser) -> None:
    pass


def run(args, ws, style) -> int:
    from runner import doctor  # imported here: asyncio and importlib.metadata would slow every command

    findings = doctor.run_all(ws)
    print(doctor.render(findings, style))
    return 1 if any(f.status == doctor.FAIL for f in findings) else 0
