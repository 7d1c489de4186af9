"""doctor: can this laptop run the katas? Each part checked, and for each problem the one thing to do.

The parts, in the order a problem blocks the next: the Python, the katas'
environment (the pinned packages, importable), a database that answers,
a kata's hidden checks passing on its reference fix, the progress folder,
the terminal (colour, a redrawing screen, keys), file events for watch
mode, and git for `reset`.

Only the standard library is imported up front, so a broken environment is
named rather than crashing the doctor: ``python -m runner.doctor`` works
where ``python -m runner doctor`` cannot even start (nox -s doctor runs it
that way).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from implicit_io.text import plural
from runner import pins, processes
from runner.workspace import Workspace

RUNNER_HOME = Path(__file__).resolve().parent.parent
REQUIREMENTS = RUNNER_HOME / "requirements"
OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
SUPPORTED = ((3, 10), (3, 13))  # oldest and newest Python the README promises
DATABASE_TIMEOUT = 10.0
INSTALL_FIX = "python -m nox -s doctor (it installs the pinned environment in .nox/katas anew, then checks again)"
# The exit code that says the environment itself is broken: `nox -s doctor` then installs it anew (noxfile.py).
ENVIRONMENT_BROKEN = 3
# Imported to prove the environment works, not just that it is installed.
IMPORTS = ("sqlalchemy.ext.asyncio", "aiosqlite", "pytest", "pytest_asyncio", "fastapi", "httpx")


@dataclass(frozen=True)
class Finding:
    part: str
    status: str  # ok, warn, fail, skip
    detail: str
    fix: str = ""


def _env() -> dict[str, str]:
    return {
        "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "os_name": os.name,
        "platform_machine": platform.machine(),
    }


class _PlainStyle:
    """What the doctor prints with when runner.render cannot even be imported (a broken environment)."""

    color, unicode = False, False
    tick, cross = "ok", "x "

    def _paint(self, code: str, text: str) -> str:
        return text

    good = bad = strong = dim = staticmethod(lambda text: text)


def style_for(stream=None):
    try:
        from runner.render import Style
    except Exception:  # noqa: BLE001 - e.g. tomli missing on Python 3.10: the environment finding says so
        return _PlainStyle()
    return Style.for_stream(stream) if stream is not None else Style()


def _mask(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


# --- The parts ----------------------------------------------------------------------------------


def check_python(version: tuple[int, int] = sys.version_info[:2]) -> Finding:
    shown = ".".join(map(str, version))
    if version < SUPPORTED[0]:
        return Finding(
            "Python",
            FAIL,
            f"Python {shown} is too old: the katas need 3.10 or newer",
            "install Python 3.11 (python.org, or your package manager), then run it: python3.11 -m nox -s doctor",
        )
    if version > SUPPORTED[1]:
        return Finding(
            "Python",
            WARN,
            f"Python {shown} is newer than the katas were tried on (3.10 to 3.13)",
            "if a package fails to install, use Python 3.13 or older",
        )
    return Finding("Python", OK, f"Python {platform.python_version()} ({sys.executable})")


def expected_versions(requirements: Path = REQUIREMENTS, env: dict[str, str] | None = None) -> dict[str, str]:
    """name -> pinned version for what the katas import directly, SQLAlchemy and greenlet included."""
    env = env or _env()
    constraints = pins.pins(pins.read(requirements / "constraints.txt"), env)
    wanted = pins.names(pins.read(requirements / "katas.txt"), env) + ["greenlet"]
    return {name: constraints[name] for name in wanted if name in constraints}


def sqlalchemy_pins(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """SQLAlchemy line -> pinned version, from sqlalchemy-2.0.txt and sqlalchemy-2.1.txt."""
    found = {}
    for path in sorted(requirements.glob("sqlalchemy-*.txt")):
        for req in pins.parse(pins.read(path)):
            if req.name == "sqlalchemy" and req.version:
                found[path.stem.split("-", 1)[1]] = req.version
    return found


def compare_versions(expected: dict[str, str], installed: Callable[[str], str | None]) -> tuple[list[str], list[str]]:
    """(missing names, 'name X (pinned Y)' mismatches)."""
    missing, wrong = [], []
    for name, version in expected.items():
        found = installed(name)
        if found is None:
            missing.append(name)
        elif found != version:
            wrong.append(f"{name} {found} (pinned: {version})")
    return missing, wrong


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_environment(requirements: Path = REQUIREMENTS) -> Finding:
    try:
        expected = expected_versions(requirements)
        lines = sqlalchemy_pins(requirements)
    except (OSError, pins.PinError) as exc:
        return Finding("environment", FAIL, f"cannot read the pins in requirements/: {exc}", "git pull, or clone again")
    missing, wrong = compare_versions(expected, installed_version)
    alchemy = installed_version("sqlalchemy")
    if alchemy is None:
        missing.append("sqlalchemy")
    elif alchemy not in lines.values():
        wrong.append(f"sqlalchemy {alchemy} (pinned: {' or '.join(lines.values())})")
    if missing or wrong:
        detail = "; ".join(filter(None, [f"missing: {', '.join(missing)}" if missing else "", ", ".join(wrong)]))
        return Finding(
            "environment", FAIL, f"this Python ({sys.executable}) lacks the pinned packages: {detail}", INSTALL_FIX
        )
    for module in IMPORTS:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is the finding
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return Finding(
                "environment",
                FAIL,
                f"`import {module}` fails: {type(exc).__name__}: {first}",
                "reinstall it: " + INSTALL_FIX + "; if it fails again, this platform lacks a wheel: use Python 3.11",
            )
    line = next((k for k, v in lines.items() if v == alchemy), "?")
    return Finding("environment", OK, f"the pinned packages, SQLAlchemy {alchemy} (the {line} line)")


async def _probe_database(url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, connect_args={"timeout": 5} if url.startswith("postgresql") else {})
    try:
        async with engine.connect() as conn:
            if url.startswith("postgresql"):
                allowed = await conn.scalar(
                    text("SELECT has_database_privilege(current_user, current_database(), 'CREATE')")
                )
                version = await conn.scalar(text("SHOW server_version"))
                if not allowed:
                    return f"refused: this user may not create schemas there (PostgreSQL {version})"
                return f"PostgreSQL {version}"
            await conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(text("INSERT INTO probe (name) VALUES ('ok')"))
            name = await conn.scalar(text("SELECT name FROM probe"))
            return f"SQLite {await conn.scalar(text('SELECT sqlite_version()'))}" if name == "ok" else "wrong answer"
    finally:
        await engine.dispose()


def check_database(environ: dict[str, str] | None = None) -> Finding:
    environ = os.environ if environ is None else environ
    raw = environ.get("KATAS_DATABASE_URL", "").strip()
    with processes.temp_folder("katas-doctor-") as tmp:
        url = raw or f"sqlite+aiosqlite:///{(Path(tmp) / 'probe.db').as_posix()}"
        shown = f"KATAS_DATABASE_URL={_mask(raw)}" if raw else "SQLite through aiosqlite"
        if raw and not (raw.startswith("postgresql+asyncpg://") or raw.startswith("sqlite+aiosqlite://")):
            return Finding(
                "database",
                FAIL,
                f"{shown}: the katas run on postgresql+asyncpg:// or on SQLite",
                "write it as postgresql+asyncpg://user@host:5432/db, or unset it to use SQLite",
            )
        try:
            answer = asyncio.run(asyncio.wait_for(_probe_database(url), DATABASE_TIMEOUT))
        except asyncio.TimeoutError:
            answer = None
            error = f"no answer within {DATABASE_TIMEOUT:g} s"
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises is the finding
            answer = None
            root = exc
            while root.__cause__ is not None or getattr(root, "orig", None) is not None:
                root = getattr(root, "orig", None) or root.__cause__
            text = str(root).strip().splitlines()
            error = f"{type(root).__name__}: {text[0]}" if text else type(root).__name__
    if answer and not answer.startswith("refused") and answer != "wrong answer":
        return Finding("database", OK, f"{shown} answers ({answer})")
    if raw:
        return Finding(
            "database",
            FAIL,
            f"{shown}: {answer or error}",
            "start PostgreSQL (docs/databases.md has a one-line container command), or unset KATAS_DATABASE_URL "
            "to use SQLite",
        )
    return Finding(
        "database",
        FAIL,
        f"SQLite through aiosqlite does not work here: {answer or error}",
        "reinstall the environment: " + INSTALL_FIX,
    )


def check_kata(ws: Workspace) -> Finding:
    """The hidden checks of the first kata pass on its reference fix, as the runner runs them."""
    try:
        from runner import execute
        from runner.catalogue import load_catalogue
    except Exception as exc:  # noqa: BLE001
        return Finding("a kata's checks", FAIL, f"the runner cannot load: {exc}", INSTALL_FIX)
    katas = [k for k in load_catalogue(ws) if (ws.solutions_dir / k.id).is_dir()]
    if not katas:
        return Finding("a kata's checks", SKIP, "no kata with a reference fix in this checkout")
    kata = katas[0]
    with processes.temp_folder("katas-doctor-") as tmp:
        copy = Path(tmp) / kata.id
        ignore = shutil.ignore_patterns("__pycache__", "*.db", "SOLUTION.md")
        shutil.copytree(ws.katas_dir / kata.id, copy, ignore=ignore)
        shutil.copytree(ws.solutions_dir / kata.id, copy, ignore=ignore, dirs_exist_ok=True)
        try:
            result = execute.run_checks(ws, kata, kata_dir=copy)
        except Exception as exc:  # noqa: BLE001 - a database setting, a broken pytest: name it
            return Finding(
                "a kata's checks", FAIL, f"kata {kata.number}'s checks could not start: {exc}", _kata_fix(kata)
            )
    if result.passed:
        checks = plural(len(result.scenarios), "check") + (" passes" if len(result.scenarios) == 1 else " pass")
        return Finding("a kata's checks", OK, f"kata {kata.number}'s {checks} on its fix")
    why = result.detail.strip().splitlines()[-1] if result.detail.strip() else result.status
    if result.scenarios:
        failing = [s.name for s in result.scenarios if not s.passed]
        why = f"{len(failing)} of {len(result.scenarios)} fail, first: {failing[0]}"
    return Finding(
        "a kata's checks", FAIL, f"kata {kata.number}'s checks fail on its reference fix ({why})", _kata_fix(kata)
    )


def _kata_fix(kata) -> str:
    return f"python -m runner check {kata.number} --verbose shows pytest's own words: show them to the facilitator"


def check_state(ws: Workspace) -> Finding:
    if ws.state_dir.exists() and not ws.state_dir.is_dir():
        return Finding(
            "progress folder",
            FAIL,
            f"{ws.display(ws.state_dir)} is a file: the runner keeps progress and backups in a folder of that name",
            f"move it away (rename it to {ws.state_dir.name}.old), then run the doctor again",
        )
    try:
        ws.state_dir.mkdir(parents=True, exist_ok=True)
        probe = ws.state_dir / ".doctor-probe"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return Finding(
            "progress folder",
            FAIL,
            f"cannot write {ws.display(ws.state_dir)}: {exc.strerror or exc}",
            "clone the katas into a folder of your own (not a read-only or synced one)",
        )
    return Finding("progress folder", OK, f"{ws.display(ws.state_dir)} is writable")


def check_terminal(stdout=None, stdin=None) -> list[Finding]:
    stdout, stdin = stdout or sys.stdout, stdin or sys.stdin
    found = []
    tty = hasattr(stdout, "isatty") and stdout.isatty()
    style = style_for(stdout)
    if not tty:
        found.append(
            Finding(
                "terminal",
                WARN,
                "the output is not a terminal (a pipe, or an editor's output pane): no colour, and watch mode "
                "prints each screen below the last",
                "run the katas in a terminal window: Terminal, Windows Terminal, or your editor's terminal tab",
            )
        )
    elif os.name == "nt":
        from runner.terminal import enable_windows_ansi

        if not enable_windows_ansi():
            found.append(
                Finding(
                    "terminal",
                    WARN,
                    "this console cannot redraw the screen (no ANSI support)",
                    "use Windows Terminal (Microsoft Store), or PowerShell on Windows 10 or newer",
                )
            )
    if not style.unicode and not isinstance(style, _PlainStyle):
        found.append(
            Finding(
                "terminal",
                WARN,
                f"the console's encoding ({getattr(stdout, 'encoding', '?')}) cannot show ✓ and ✗",
                "set PYTHONIOENCODING=utf-8, or use Windows Terminal",
            )
        )
    keys_tty = hasattr(stdin, "isatty") and stdin.isatty()
    if not keys_tty:
        found.append(
            Finding(
                "terminal",
                WARN,
                "the keyboard is not a terminal: in watch mode each key needs Enter",
                "run the katas in a terminal window",
            )
        )
    if not found:
        colour = "colour" if style.color else "no colour (NO_COLOR is set)"
        found.append(Finding("terminal", OK, f"a terminal: {colour}, a redrawing screen, keys one by one"))
    return found


def check_file_events(ws: Workspace, timeout: float = 3.0) -> Finding:
    try:
        import watchfiles
    except ImportError:
        return Finding(
            "file events",
            WARN,
            "watchfiles is not installed: watch mode looks at your files every 0.1 s instead",
            INSTALL_FIX,
        )
    from runner.terminal import EventSource, wait_for

    # Probed where the katas are (a network drive, a container mount), in .katas; elsewhere if it cannot be.
    try:
        ws.state_dir.mkdir(parents=True, exist_ok=True)
        where = ws.state_dir
    except OSError:
        where = ws.katas_dir if ws.katas_dir.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="doctor-", dir=where) as tmp:
        events: queue.Queue = queue.Queue()
        source = EventSource(Path(tmp) / "watched", probe_dir=Path(tmp) / "probe", probe_timeout=timeout)
        (Path(tmp) / "watched").mkdir()
        source.start(events.put)
        try:
            answer = wait_for(events, ("events-ok", "events-failed"), timeout + 2)
        finally:
            source.stop()
    if answer and answer[0] == "events-ok":
        return Finding("file events", OK, f"file events arrive (watchfiles {watchfiles.__version__})")
    reason = answer[1] if answer else "no answer from the file watcher"
    return Finding(
        "file events",
        WARN,
        f"file events do not arrive here ({reason}): watch mode will poll, which works",
        "nothing to do; python -m runner watch --poll skips the wait for events",
    )


def check_git(ws: Workspace) -> Finding:
    git = shutil.which("git")
    if git is None:
        return Finding("git", WARN, "git is not installed: `reset` cannot find a kata's starting code", "install git")
    try:
        inside = subprocess.run(
            [git, "rev-parse", "--is-inside-work-tree"], cwd=ws.root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Finding("git", WARN, f"git does not run: {exc}", "reinstall git")
    if inside.returncode != 0:
        return Finding(
            "git", WARN, "this folder is not a git clone: `reset` cannot find a kata's starting code", "git clone it"
        )
    return Finding("git", OK, "a git clone (reset can restore any kata)")


def run_all(ws: Workspace, environ: dict[str, str] | None = None) -> list[Finding]:
    found = [check_python()]
    if found[-1].status == FAIL:
        return found
    environment = check_environment()
    found.append(environment)
    if environment.status == FAIL:
        found += [
            Finding("database", SKIP, "needs the environment"),
            Finding("a kata's checks", SKIP, "needs the environment"),
        ]
    else:
        database = check_database(environ)
        found.append(database)
        found.append(
            check_kata(ws) if database.status != FAIL else Finding("a kata's checks", SKIP, "needs the database")
        )
    found.append(check_state(ws))
    found += check_terminal()
    found.append(
        check_file_events(ws) if environment.status != FAIL else Finding("file events", SKIP, "needs the environment")
    )
    found.append(check_git(ws))
    return found


def render(findings: list[Finding], style=None) -> str:
    style = style or style_for()
    marks = {
        OK: style.tick,
        WARN: style._paint("33", "!") if style.color else "!",
        FAIL: style.cross,
        SKIP: style.dim("-"),
    }
    out = [style.strong("Can this laptop run the katas?"), ""]
    for finding in findings:
        out.append(f"{marks[finding.status]} {finding.part}: {finding.detail}")
        if finding.fix and finding.status in (FAIL, WARN):
            arrow = "→" if style.unicode else "->"
            out.append(f"    {arrow} {finding.fix}")
    problems = sum(f.status == FAIL for f in findings)
    warnings = sum(f.status == WARN for f in findings)
    out.append("")
    if problems:
        out.append(style.bad(f"{problems} problem(s): fix them from the top, then run the doctor again."))
    else:
        note = f" ({plural(warnings, 'warning')}: the katas run, with the limits above)" if warnings else ""
        out.append(style.good("Ready: this laptop runs the katas." + note))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ws = Workspace.locate()
    findings = run_all(ws)
    print(render(findings, style_for(sys.stdout)))
    if any(f.part == "environment" and f.status == FAIL for f in findings):
        return ENVIRONMENT_BROKEN
    return 1 if any(f.status == FAIL for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
