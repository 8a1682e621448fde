"""Bench: the library code of another git ref, for a baseline measured in the same run.

`tree(ref, scratch)` extracts the ref's files (git archive) into a scratch directory;
`run(script, args, library)` runs a bench script of this checkout in a fresh process whose
imports come from `library` (this checkout or such a tree) and returns the JSON object it
prints last. The benches alternate baseline and new runs, so that load from other processes on
a shared machine falls on both.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def tree(ref: str, scratch: Path) -> Path:
    """The files of git ref `ref` under scratch/baseline."""
    base = scratch / "baseline"
    base.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(base, filter="data")
    return base


def run(script: Path, args: list[str], library: Path) -> dict[str, Any]:
    """`python script *args` on the library code under `library`; its last line as JSON."""
    env = {**os.environ, "PYTHONPATH": str(library)}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=library,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
