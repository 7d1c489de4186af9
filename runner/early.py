"""A check's pytest processes start before the runner has imported the rest of itself.

`python -m runner check 01` spends about 100 ms importing its command line,
catalogue and renderer before it would start the checks, which then spend
most of a second importing SQLAlchemy and pytest: one core idles meanwhile.
So runner/__main__.py calls prestart() first. From the few facts the
processes need (the kata's folder, the environment) it starts them, and
execute.run_checks adopts them only if they are exactly what it would have
started: the same commands, environments and folders. Anything else (another
kata, a syntax error, --verbose, a changed environment) and they are killed
and run_checks starts its own.

They never outlive the runner: run_checks kills them as it kills its own; a
run that never adopts them kills them and removes their folder on its way out
(atexit); and runner/lifeline.py ends them if the runner itself is killed.

The functions that say what a check's processes are (pytest_command,
checks_env, children) live here so that both sides use the same ones; this
module imports nothing heavier than subprocess.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from runner import processes
from runner.share import ORDER_VARIABLE, SHARE_VARIABLE

RUNNER_HOME = Path(__file__).resolve().parent.parent
SESSION_VARIABLE = "KATAS_SESSION_KATA"  # set by `nox -s kata-NN` (runner/cli.py reads it)
KATA_NUMBER = re.compile(r"(?:kata-)?(\d{2})")

Spec = tuple[list[str], dict[str, str], Path]  # a process: its command, environment and folder


def pytest_command(checks_dir: Path, kata_id: str, verbose: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(checks_dir / "pytest.ini"),
        "--rootdir",
        str(checks_dir),
        # First: the check ends when the runner is gone (runner/lifeline.py).
        "-p",
        "runner.lifeline",
        # Only the plugins the checks need: autoloading every installed one costs time.
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "runner.plugin",
        *(["-v", "--tb=short"] if verbose else ["-q", "--tb=no", "--no-header", "-p", "no:warnings"]),
        str(checks_dir / kata_id),
    ]


def checks_env(
    base: Mapping[str, str], checks_dir: Path, kata_dir: Path, report: Path, problem: Path, tmp: Path
) -> dict[str, str]:
    """The environment of a pytest process that runs a kata's hidden checks (a check's, or a warm spare's)."""
    return {
        **processes.child_env(dict(base), tmp),
        "KATA_DIR": str(kata_dir),
        "KATAS_CHECKS_DIR": str(checks_dir),
        "KATAS_REPORT": str(report),
        "KATAS_DATABASE_PROBLEM": str(problem),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        # The child imports runner.plugin from this very runner, wherever the katas are.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(RUNNER_HOME), base.get("PYTHONPATH")])),
    }


def check_shares() -> int:
    """How many pytest processes share a check: one per core, at most two (KATAS_CHECK_PROCESSES overrides).

    A check's scenarios take about as long as starting Python and importing
    SQLAlchemy and pytest: on two cores, two processes that each run every
    other scenario give the verdict sooner than one that runs them all.
    """
    raw = os.environ.get("KATAS_CHECK_PROCESSES", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(2, os.cpu_count() or 1))


def children(
    checks_dir: Path, kata_id: str, kata_dir: Path, verbose: bool, base_env: Mapping[str, str], tmp: Path, shares: int
) -> list[Spec]:
    """The check's pytest processes: each with its own folder in ``tmp`` (a learner's stray ./app.db is
    not shared), all writing the problem file and, when they share the scenarios, the order file."""
    command = pytest_command(checks_dir, kata_id, verbose)
    specs = []
    for index in range(shares):
        folder = tmp / f"share-{index}"
        env = checks_env(base_env, checks_dir, kata_dir, folder / "report.json", tmp / "database-problem.txt", tmp)
        if shares > 1:
            env.update({SHARE_VARIABLE: f"{index}/{shares}", ORDER_VARIABLE: str(tmp / "order.json")})
        specs.append(([*command, "-p", "runner.share"] if shares > 1 else command, env, folder))
    return specs


def launch(
    specs: list[Spec], verbose: bool, start=None, started: list[processes.Child] | None = None
) -> list[processes.Child]:
    """Start them (``start``: processes.Child), each writing its output to a file of its folder (never a
    pipe: runner/processes.py). ``started`` receives each as it starts: should a later one fail to, the
    caller can still kill it."""
    start = start or processes.Child
    started = [] if started is None else started
    for command, env, folder in specs:
        folder.mkdir(exist_ok=True)
        with open(folder / "output.txt", "wb") as output:  # the child keeps its own copy of the file
            started.append(start(command, env=env, cwd=folder, stdout=None if verbose else output))
    return started


def forget_compiled(kata_dir: Path, prefix: str | None) -> None:
    """Delete every compiled file of the learner's code, so the check imports it from the source.

    A .pyc is trusted when the source's mtime (in whole seconds) and size match:
    two saves within a second can leave a stale one. Python keeps them in
    ``__pycache__`` beside the code, or, under PYTHONPYCACHEPREFIX (``prefix``),
    in a mirror of the source tree there.
    """
    for cache in kata_dir.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    if prefix and os.path.isabs(prefix):  # a relative prefix is under the check's own new folder
        shutil.rmtree(Path(prefix) / kata_dir.relative_to(kata_dir.anchor), ignore_errors=True)


def compile_into(prefix: str, kata_dir: Path) -> None:
    """This process's compiled files go to ``prefix``, a folder of the runner's own, whatever
    PYTHONDONTWRITEBYTECODE says: the next process reads the hidden checks' rewritten asserts back instead
    of redoing them. Nothing lands beside the code, and the learner's own are deleted first: never stale."""
    sys.pycache_prefix, sys.dont_write_bytecode = prefix, False
    forget_compiled(kata_dir, prefix)


# --- Started ahead ----------------------------------------------------------------------------


class Prestarted:
    def __init__(self, kata_dir: Path, folder: Path, specs: list[Spec], procs: list[processes.Child]):
        self.kata_dir, self.folder, self.specs, self.procs = kata_dir, folder, specs, procs

    def discard(self) -> None:
        for proc in self.procs:
            proc.kill()
        processes.remove(self.folder)


_prestarted: Prestarted | None = None


def kata_argument(argv: list[str], environ: Mapping[str, str]) -> str | None:
    """The kata's number when the command line is a plain check of one kata (`check 01`, `check kata-01`,
    or `check` in `nox -s kata-01`); None for anything else, which the runner does the usual way."""
    if argv[:1] != ["check"] or len(argv) > 2:
        return None
    named = argv[1] if len(argv) == 2 else environ.get(SESSION_VARIABLE, "").strip()
    found = KATA_NUMBER.fullmatch(named)
    return found.group(1) if found else None


def prestart(argv: list[str]) -> None:
    """Start the check's processes now, if the command line is a plain check of one kata folder.

    Only a head start: whatever goes wrong here, nothing is started and the check runs as usual.
    """
    number = kata_argument(argv, os.environ)
    if number is None or _prestarted is not None:
        return
    try:
        _prestart(number)
    except Exception:  # noqa: BLE001 - the runner says what is wrong, if anything is, the usual way
        _discard()


def _prestart(number: str) -> None:
    global _prestarted
    home = os.environ.get("KATAS_HOME")
    root = Path(home).resolve() if home else RUNNER_HOME  # as Workspace.locate() finds it
    found = [p for p in (root / "katas").glob(f"{number}-*") if p.is_dir()]
    if len(found) != 1:
        return  # no such kata, or a catalogue the runner will name the problem of
    kata_dir = found[0].resolve()
    base_env = {k: v for k, v in os.environ.items() if k != SESSION_VARIABLE}  # runner/cli.py takes it out
    forget_compiled(kata_dir, base_env.get("PYTHONPYCACHEPREFIX"))
    folder = processes.make_temp(processes.PREFIX)
    specs = children(root / "runner" / "checks", kata_dir.name, kata_dir, False, base_env, folder, check_shares())
    procs: list[processes.Child] = []
    _prestarted = Prestarted(kata_dir, folder, specs, procs)
    atexit.register(_discard)
    launch(specs, verbose=False, started=procs)


def take(kata_dir: Path, specs_for, usable: bool) -> Prestarted | None:
    """The processes started ahead, if ``usable`` and ``specs_for(folder)`` (what run_checks would start)
    is what they are; else None, and any started ahead are killed."""
    global _prestarted
    started, _prestarted = _prestarted, None
    if started is None:
        return None
    if not usable or kata_dir != started.kata_dir or specs_for(started.folder) != started.specs:
        started.discard()
        return None
    return started


def _discard() -> None:
    global _prestarted
    started, _prestarted = _prestarted, None
    if started is not None:
        started.discard()
