"""Slow: a wheelhouse for this machine, and the katas installed and run from it with no index.

Not collected by the default suite (its name does not start with test_):
`nox -s offline` runs it, and CI runs that session. It needs the package
index once, to fill the wheelhouse; everything after that runs with pip
barred from any index (PIP_NO_INDEX, no pip configuration, and a proxy
that answers nothing), the way a laptop in a room without a network does:

1. ``python -m runner.wheelhouse --this-machine`` fills the folder;
2. a new virtual environment installs nox from it (docs/workshop.md's step);
3. ``nox -s kata-01``, in a copy of the repository, creates the katas'
   environment from the folder with uv (installed beside nox) and runs the
   kata: it fails the way kata 01 fails, which proves the environment
   installed and the checks ran;
4. the same with pip, on a laptop where uv is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from runner import wheelhouse

REPO = Path(__file__).resolve().parent.parent


def offline_env(wheels: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_")) and k.upper() != "VIRTUAL_ENV"}
    env.update(
        PIP_CONFIG_FILE=os.devnull,  # no pip.conf: no extra index, no find-links of this machine
        UV_NO_CONFIG="1",  # nor uv.toml; uv reads the PIP_ variables below through noxfile.py
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        HTTP_PROXY="http://127.0.0.1:9",  # anything that still tries the network fails at once
        HTTPS_PROXY="http://127.0.0.1:9",
        # No uv of this machine's (nox's session has one): only the one installed from the wheelhouse.
        PATH=os.pathsep.join(
            p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not uv_in(Path(p)).is_file()
        ),
    )
    env.pop("KATAS_HOME", None)
    env.pop("KATAS_SQLALCHEMY", None)
    return env


def uv_in(folder: Path) -> Path:
    return folder / ("uv.exe" if os.name == "nt" else "uv")


def test_the_katas_install_and_run_from_the_wheelhouse_with_no_index(tmp_path):
    wheels = tmp_path / "wheelhouse"
    assert wheelhouse.main(["--this-machine", "--dest", str(wheels)]) == 0
    assert list(wheels.glob("greenlet-*.whl")), "binary wheels are in"

    # A copy of the checkout: its .nox/katas is made there, not in yours.
    repo = tmp_path / "katas-repo"
    ignore = shutil.ignore_patterns(".git", ".nox", ".katas", "wheelhouse", "__pycache__", "*.db", ".*_cache")
    shutil.copytree(REPO, repo, ignore=ignore)

    env = offline_env(wheels)
    learner = tmp_path / "learner-venv"
    venv.EnvBuilder(with_pip=True).create(learner)
    python = str(learner / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    install = subprocess.run(
        [python, "-m", "pip", "install", "-r", "requirements/nox.txt"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    kata_env = repo / ".nox" / "katas"
    out = kata_01(python, repo, env)
    uv = uv_in(Path(python).parent)
    assert uv.is_file(), "uv was installed from the wheelhouse beside nox"
    assert "Installing the pinned packages with uv" in out and "pip tries" not in out, out
    assert f"{uv} pip install" in out, out
    assert "uv = " in (kata_env / "pyvenv.cfg").read_text(), "uv made the environment"

    # A laptop without uv (no wheel for it): pip installs from the same folder.
    uninstall = subprocess.run([python, "-m", "pip", "uninstall", "-y", "uv"], env=env, capture_output=True, text=True)
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    shutil.rmtree(kata_env)
    out = kata_01(python, repo, env)
    assert "Installing the pinned packages with pip" in out, out
    assert "uv = " not in (kata_env / "pyvenv.cfg").read_text(), "venv made the environment"
    assert sys.version_info >= (3, 10)


def kata_01(python: str, repo: Path, env: dict[str, str]) -> str:
    """`nox -s kata-01` in the copy: it installs the katas' environment, and kata 01 fails as it should."""
    run = subprocess.run(
        [python, "-m", "nox", "-s", "kata-01"], cwd=repo, env=env, capture_output=True, text=True, timeout=900
    )
    out = run.stdout + run.stderr
    assert (repo / ".nox" / "katas").is_dir(), out
    assert run.returncode == 1 and "not passing yet" in out, out
    assert "Kata 01:" in out and "checks pass" in out, out
    return out
