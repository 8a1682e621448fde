"""Shell: reads workload spec YAML files into `planner.spec.WorkloadSpec`s.

A file holds one workload mapping, a list of them, a mapping with `workloads:` (and optional
`pools:`), or several YAML documents separated by `---`, each one workload. Validation is the
planner's (`spec.parse_workloads`); this module only turns file and YAML problems into
InputErrors that name the file and line.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kernel import errors
from planner import spec


def load(path: Path) -> tuple[spec.WorkloadSpec, ...]:
    """Read and validate a workload YAML file; raise one InputError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.InputError(
            f"workload file {path} does not exist; pass --workload with a YAML spec "
            "(see actuator/examples/workload.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(
            f"workload file {path} cannot be read ({exc}); pass a readable UTF-8 YAML file"
        ) from None
    return parse(text, source=str(path))


def parse(text: str, *, source: str = "<workload>") -> tuple[spec.WorkloadSpec, ...]:
    """Validate workload YAML text (one or many documents)."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise errors.InputError(
            f"workload file {source}{where}: invalid YAML ({problem}); fix the syntax there"
        ) from None
    if not documents:
        raise errors.InputError(
            f"workload file {source} is empty; define at least one workload "
            "(name, unit, gpu, max_replicas, ...)"
        )
    data = documents[0] if len(documents) == 1 else documents
    try:
        return spec.parse_workloads(data)
    except errors.InputError as exc:
        raise errors.InputError([f"workload file {source}: {p}" for p in exc.problems]) from None
