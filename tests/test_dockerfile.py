"""The Dockerfile's claims, checked without a Docker engine (none runs here, so the image itself
is not built by the tests): a slim base, non-root, the same user id as the Deployment, no build
tools or wheels left in the final stage, and a build stage whose copied files are enough to build
the project's wheel with every package, its data files and the `prescale` command."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
BASE_IMAGE = "python:3.11-slim"
BUILD_TOOLS = ("gcc", "build-essential", "make", "g++", "libpq-dev")


@dataclass(frozen=True)
class Instruction:
    verb: str  # upper case: FROM, RUN, COPY, USER, ...
    text: str  # the arguments, continuation lines joined


def _instructions(path: Path) -> list[Instruction]:
    joined: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    return [Instruction(t.split(None, 1)[0].upper(), t.split(None, 1)[1]) for t in joined]


def _stages(path: Path) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for instruction in _instructions(path):
        if instruction.verb == "FROM":
            stages.append([])
        if stages:  # the global ARGs before the first FROM belong to no stage
            stages[-1].append(instruction)
    return stages


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_stage_is_the_slim_python_base() -> None:
    """Both stages start FROM the one BASE argument, the slim Python image by default (a local
    base can be passed where no image registry is reachable: bench/image.sh)."""
    global_args = []
    for instruction in _instructions(DOCKERFILE):
        if instruction.verb == "FROM":
            break
        global_args.append(instruction)
    assert [i.text for i in global_args if i.verb == "ARG"] == [f"BASE={BASE_IMAGE}"]
    stages = _stages(DOCKERFILE)
    assert len(stages) == 2, "a build stage and a final stage"
    for stage in stages:
        assert stage[0].text.split()[0] == "${BASE}"


def test_the_final_stage_runs_as_the_deployments_non_root_user() -> None:
    final = _stages(DOCKERFILE)[-1]
    users = [i.text for i in final if i.verb == "USER"]
    assert users, "the final stage sets USER"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0, "numeric, so the kubelet can check runAsNonRoot"
    deployment = yaml.safe_load((REPO / "deploy" / "base" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (int(user), int(group)) == (pod["runAsUser"], pod["runAsGroup"])
    assert [i.text for i in final if i.verb == "ENTRYPOINT"] == ['["prescale"]']
    scripts = _pyproject()["project"]["scripts"]  # type: ignore[index]
    assert "prescale" in scripts


def test_the_final_stage_has_no_build_tools_and_keeps_no_wheels() -> None:
    final = _stages(DOCKERFILE)[-1]
    runs = " ".join(i.text for i in final if i.verb == "RUN")
    assert not any(tool in runs.split() for tool in BUILD_TOOLS)
    assert "apt-get" not in runs
    assert "--no-index" in runs  # installs from the build stage's wheels only
    assert "--mount=type=bind,from=build" in runs  # not COPYed: no layer holds the wheels
    assert "pip uninstall -y pip setuptools wheel" in runs
    assert not [i for i in final if i.verb in {"COPY", "ADD"}]


def test_the_image_installs_every_runtime_extra() -> None:
    """The store's PostgreSQL driver is an extra: the image must ask for it."""
    extras = set(_pyproject()["project"]["optional-dependencies"]) - {"dev"}  # type: ignore[index]
    runs = " ".join(i.text for stage in _stages(DOCKERFILE) for i in stage if i.verb == "RUN")
    for extra in extras:
        assert f"[{extra}]" in runs, f"the image does not install the {extra} extra"


def test_the_build_stage_copies_enough_to_build_the_whole_project(tmp_path: Path) -> None:
    """Lay out exactly what the build stage COPYs and build the wheel from it: a package left
    out of the COPY lines (or of the packaging) fails here."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the tracked files")
    context = tmp_path / "context"
    build = _stages(DOCKERFILE)[0]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for instruction in build:
        if instruction.verb != "COPY":
            continue
        *sources, _destination = shlex.split(instruction.text)
        for source in sources:
            for name in tracked:
                if name == source or name.startswith(source.rstrip("/") + "/"):
                    (context / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / name, context / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("--wheel-dir", str(wheels), str(context)),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("prescale-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if name.endswith("/__init__.py")}
    in_repo = {
        p.parent.name for p in REPO.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"}
    }
    assert packages == in_repo
    assert "migrations/alembic.ini" in names
    assert any(name.startswith("actuator/examples/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "prescale = actuator.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
