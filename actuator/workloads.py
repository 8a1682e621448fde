"""Shell: reads workload spec YAML files into `planner.spec.WorkloadSpec`s.

A file holds one workload mapping, a list of them, a mapping with `workloads:` (and optional
`pools:`), or several YAML documents separated by `---`, each one workload. Validation is the
planner's (`spec.parse_workloads`); this module only turns file and YAML problems into
InputErrors that name the file and line.
"""

from __future__ import annotations

from pathlib import Path

from actuator import yamldoc
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
    documents = yamldoc.load_all(text, source=f"workload file {source}")
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
