"""catch-up: join the room at kata N; every earlier kata that does not pass gets its reference fix."""

from __future__ import annotations

import time

from runner import execute, progress, workshop
from runner import state as state_io
from runner.commands import _common
from runner.commands.reset import backup

NAME = "catch-up"
HELP = "start at kata N: earlier katas that do not pass get the solution (your versions are backed up)"


def configure(parser) -> None:
    parser.add_argument("kata", help="the kata the room is on")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing files")
    parser.add_argument("--timeout", type=float, help="seconds before a check that hangs is stopped")


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
    state = _common.load_state(ws)
    candidates = workshop.catch_up_candidates(katas, state, target)
    if not candidates:
        print(f"Nothing to catch up: every kata before {target.number} is finished.")
        print(f"Kata {target.number}: nox -s {target.session} (or python -m runner watch {target.number})")
        return 0
    plan = []  # (kata, files to replace)
    for kata in candidates:
        print(f"Checking kata {kata.number}, {kata.title} …", flush=True)
        result = execute.run_checks(ws, kata, timeout=args.timeout)
        state = progress.record_check(state, kata.id, result.passed, time.time())
        if result.passed:
            print(f"  {style.tick} it passes: left as it is")
            continue
        solution = _files(ws.solutions_dir / kata.id)
        if not solution:
            print(f"  {style.cross} it does not pass, and there is no reference fix in solutions/{kata.id}/")
            continue
        changed = workshop.files_to_replace(solution, _files(ws.katas_dir / kata.id, skip=()))
        plan.append((kata, changed))
        print(f"  {style.cross} it does not pass: {len(changed)} file(s) would get the reference fix")
    state_io.save(ws.state_file, state)
    if not plan:
        print(f"\nNothing to change. Kata {target.number}: nox -s {target.session}")
        return 0
    question = f"\nApply the reference fix to {len(plan)} kata(s)? Your versions are backed up."
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
        state = progress.record_catch_up(state, kata.id, time.time())
        print(f"Kata {kata.number}: the reference fix is in ({', '.join(changed) or 'no file differed'}).")
        print(f"  Your version is kept in {ws.display(saved)}")
        notes = solution_dir / "SOLUTION.md"
        if notes.is_file():
            print(f"  Why this fix: {ws.display(notes)}")
    state_io.save(ws.state_file, state)
    print(f"\nYou are on kata {target.number}, {target.title}: nox -s {target.session}")
    return 0
