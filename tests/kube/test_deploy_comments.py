"""The comments at the top of deploy/'s kustomizations say how many replicas run: held to what
kustomize renders, for the base and with the postgres component."""

from __future__ import annotations

from pathlib import Path

import manifests
import parts
import pytest

NUMBERS = {1: "one", 2: "two", 3: "three"}


def _header(path: Path) -> str:
    """The comment lines before the first key, as one line."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


def _replicas(path: Path) -> int:
    try:
        docs = manifests.render(path)
    except manifests.UnavailableError as exc:
        parts.missing_part("kubectl with kustomize", str(exc))
    return int(manifests.find(docs, "Deployment", "prescale")["spec"]["replicas"])


@pytest.mark.parametrize("with_postgres", [False, True], ids=["base", "postgres"])
def test_the_base_comment_says_the_replicas_the_deployment_runs(
    with_postgres: bool, tmp_path: Path
) -> None:
    base = manifests.DEPLOY / "base"
    path = base
    if with_postgres:
        path = manifests.compose(tmp_path / "user", [base], [manifests.POSTGRES])
    replicas = _replicas(path)
    header = _header(base / "kustomization.yaml")
    assert f"{NUMBERS[replicas]} replicas" in header
    claimed = {n for n, word in NUMBERS.items() if f"{word} replica" in header}
    assert claimed == {replicas}, f"the comment claims {claimed}, kustomize renders {replicas}"
