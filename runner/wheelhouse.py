"""The wheelhouse: every package the katas need, at the pinned versions, for the laptops a room brings.

``nox -s wheelhouse`` writes it (``python -m runner.wheelhouse`` does the
work, with the standard library only). A laptop with no network then
installs from the folder, nox included, and ``nox -s kata-01`` creates the
katas' environment from it (docs/workshop.md shows how).

What goes in: for each supported Python (3.10 to 3.13) and each platform
(Linux x86_64 and aarch64, macOS Intel and Apple silicon, Windows x64),
every pin of requirements/constraints.txt whose marker holds there, and
SQLAlchemy of each line that Python runs (2.0 everywhere, 2.1 from 3.11).
Each pin is downloaded alone (``--no-deps``): constraints.txt is the full
set the environment resolves to, so the markers are evaluated here, for the
target, not by pip for the Python running it. Binary packages (greenlet,
pydantic-core, asyncpg, SQLAlchemy, watchfiles) come as one wheel per
Python and platform; pure ones once.
"""

from __future__ import annotations

import argparse
import platform as host_platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from implicit_io.text import plural
from runner import pins

RUNNER_HOME = Path(__file__).resolve().parent.parent
REQUIREMENTS = RUNNER_HOME / "requirements"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
LINES = {"2.0": "3.10", "2.1": "3.11"}  # SQLAlchemy line -> oldest Python it runs on


@dataclass(frozen=True)
class Platform:
    name: str
    tags: tuple[str, ...]  # pip --platform values, most widely compatible first
    env: dict  # marker variables for this platform

    def __hash__(self) -> int:
        return hash(self.name)


def _linux(arch: str) -> Platform:
    # manylinux2014 (glibc 2.17: every Linux of the last ten years) first; 2_28 for wheels built only there.
    tags = (f"manylinux2014_{arch}", f"manylinux_2_17_{arch}", f"manylinux_2_28_{arch}")
    if arch == "x86_64":
        tags += (f"manylinux_2_5_{arch}", f"manylinux1_{arch}")
    env = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": arch}
    return Platform(f"linux-{arch}", tags, env)


def _macos(arch: str, version: str) -> Platform:
    # pip widens a macOS tag to every older macOS and to universal2 wheels.
    env = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": arch}
    return Platform(f"macos-{arch}", (f"macosx_{version}_{arch}",), env)


PLATFORMS = (
    _linux("x86_64"),
    _linux("aarch64"),
    _macos("x86_64", "11_0"),
    _macos("arm64", "11_0"),
    Platform(
        "windows-amd64",
        ("win_amd64",),
        {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
    ),
)


@dataclass(frozen=True)
class Target:
    python: str  # "3.11"
    platform: Platform

    @property
    def env(self) -> dict:
        return {**self.platform.env, "python_version": self.python}

    @property
    def label(self) -> str:
        return f"Python {self.python} on {self.platform.name}"


def targets(pythons=PYTHONS, platforms=PLATFORMS) -> list[Target]:
    return [Target(py, plat) for py in pythons for plat in platforms]


def lines_for(python: str) -> list[str]:
    """The SQLAlchemy lines a Python runs."""
    return [line for line, oldest in LINES.items() if pins._version_tuple(python) >= pins._version_tuple(oldest)]


def requirements_for(target: Target, requirements: Path = REQUIREMENTS) -> list[list[str]]:
    """name==version groups for everything the target installs: the katas and nox, then each SQLAlchemy line.

    One group per pip call: pip will not take two versions of one package at once.
    """
    constraints = pins.pins(pins.read(requirements / "constraints.txt"), target.env)
    groups = [sorted(f"{name}=={version}" for name, version in constraints.items())]
    for line in lines_for(target.python):
        groups.append(
            sorted(
                req.spec
                for req in pins.parse(pins.read(requirements / f"sqlalchemy-{line}.txt"))
                if req.version and pins.evaluate(req.marker, target.env)
            )
        )
    return groups


def pip_downloads(
    target: Target, dest: Path, requirements: Path = REQUIREMENTS, python: str = sys.executable
) -> list[list[str]]:
    """The pip commands that put the target's wheels in ``dest``."""
    major, minor = target.python.split(".")
    base = [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    base += ["--only-binary=:all:", "--dest", str(dest)]
    base += ["--python-version", target.python, "--implementation", "cp", "--abi", f"cp{major}{minor}"]
    for tag in target.platform.tags:
        base += ["--platform", tag]
    return [base + group for group in requirements_for(target, requirements)]


def this_machine() -> Target:
    """The target this Python runs as, for a wheelhouse of one (the offline test)."""
    machine = host_platform.machine().lower()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if sys.platform.startswith("linux"):
        plat = _linux("aarch64" if machine in ("aarch64", "arm64") else "x86_64")
    elif sys.platform == "darwin":
        plat = _macos("arm64" if machine == "arm64" else "x86_64", "11_0")
    elif sys.platform == "win32":
        plat = PLATFORMS[-1]
    else:
        raise SystemExit(f"no wheelhouse platform for {sys.platform}")
    return Target(python, plat)


def build(dest: Path, chosen: list[Target], requirements: Path = REQUIREMENTS, log=print) -> list[tuple[Target, str]]:
    """Download every target's wheels; returns the targets that failed, with pip's last words."""
    dest.mkdir(parents=True, exist_ok=True)
    failed = []
    for number, target in enumerate(chosen, 1):
        log(f"[{number}/{len(chosen)}] {target.label}")
        for command in pip_downloads(target, dest, requirements):
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode:
                errors = [line for line in (proc.stderr or proc.stdout).splitlines() if line.startswith("ERROR")]
                tail = errors[-3:] or (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                failed.append((target, "\n".join(tail)))
                log("  failed: " + " / ".join(tail))
                break
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s wheelhouse --", description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=str(RUNNER_HOME / "wheelhouse"), help="the folder (default: ./wheelhouse)")
    parser.add_argument("--python", action="append", choices=PYTHONS, help="only this Python (repeatable)")
    parser.add_argument(
        "--platform", action="append", choices=[p.name for p in PLATFORMS], help="only this platform (repeatable)"
    )
    parser.add_argument("--this-machine", action="store_true", help="only this machine's Python and platform")
    args = parser.parse_args(argv)
    if args.this_machine:
        chosen = [this_machine()]
    else:
        platforms = [p for p in PLATFORMS if not args.platform or p.name in args.platform]
        chosen = targets(tuple(args.python or PYTHONS), tuple(platforms))
    dest = Path(args.dest).resolve()
    failed = build(dest, chosen)
    wheels = sorted(dest.glob("*.whl"))
    size = sum(p.stat().st_size for p in wheels) / 1e6
    print(f"{plural(len(wheels), 'wheel')}, {size:.0f} MB, in {dest}")
    if failed:
        print(f"{plural(len(failed), 'target')} failed: " + ", ".join(t.label for t, _ in failed))
        return 1
    print("Copy the folder with the repository; docs/workshop.md shows how a laptop installs from it offline.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
