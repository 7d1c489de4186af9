"""catch-up: join the room at kata N; every earlier kata that does not pass gets its reference fix."""

from __future__ import annotations

import time

from implicit_io.text import plural
from runner import execute, progress, workshop
from runner import state as state_io
from runner.commands import _common
from runner.commands.reset import backup
from runner.workspace import code_digest

NAME = "catch-up"
HELP = "start at kata N: earlier katas that do not pass get the solution (your versions are backed up)"


def configure(parser) -> None:
    parser.add_argument("kata", help="the kata the room is on")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing files")
    parser.add_argument(
        "--timeout", type=_common.seconds, help="seconds before a check that hangs is stopped (above 0)"
    )


def _files(folder, skip=("SOLUTION.md",)) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.name not in skip
    }


def run(args, ws, style) -> int:
    katas, target = _common.kata(ws, args.kata)
    state_io.ensure_folder(ws.state_dir, ws.display(ws.state_dir))  # the backups go there: before any change
    candidates = workshop.catch_up_candidates(katas, _common.view_state(ws, katas), target)
    if not candidates:
        print(f"Nothing to catch up: every kata before {target.number} is finished.")
        print(f"Kata {target.number}: nox -s {target.session} (or python -m runner watch {target.number})")
        return 0
    plan = []  # (kata, files to replace)
    print(f"The checks run on {execute.database_label()}.")
    for kata in candidates:
        print(f"Checking kata {kata.number}, {kata.title} …", flush=True)
        digest = code_digest(ws.katas_dir / kata.id)
        result = execute.run_checks(ws, kata, timeout=args.timeout)
        _common.record_check(ws, kata, result, digest)
        if result.passed:
            print(f"  {style.tick} it passes: left as it is")
            continue
        solution = _files(ws.solutions_dir / kata.id)
        if not solution:
            print(f"  {style.cross} it does not pass, and there is no reference fix in solutions/{kata.id}/")
            continue
        changed = workshop.files_to_replace(solution, _files(ws.katas_dir / kata.id, skip=()))
        plan.append((kata, changed))
        print(f"  {style.cross} it does not pass: {plural(len(changed), 'file')} would get the reference fix")
    if not plan:
        print(f"\nNothing to change. Kata {target.number}: nox -s {target.session}")
        return 0
    question = f"\nApply the reference fix to {plural(len(plan), 'kata')}? Your versions are backed up."
    if not _common.confirmed(args.yes, "catch-up", question):
        return 0
    print()
    for kata, changed in plan:
        kata_dir = ws.katas_dir / kata.id
        saved = backup(ws, kata_dir, kata.id)
        solution_dir = ws.solutions_dir / kata.id
        for rel in changed:
            destination = kata_dir / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes((solution_dir / rel).read_bytes())
        digest = code_digest(kata_dir)
        _common.record(ws, lambda s, k=kata, d=digest: progress.record_catch_up(s, k.id, time.time(), d))
        print(f"Kata {kata.number}: the reference fix is in ({', '.join(changed) or 'no file differed'}).")
        print(f"  Your version is kept in {ws.display(saved)}")
        notes = solution_dir / "SOLUTION.md"
        if notes.is_file():
            print(f"  Why this fix: {ws.display(notes)}")
    print(f"\nYou are on kata {target.number}, {target.title}: nox -s {target.session}")
    return 0
