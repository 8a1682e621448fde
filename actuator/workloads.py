"""Shell: reads workload spec YAML files into `planner.spec.WorkloadSpec`s.

A file holds one workload mapping, a list of them, a mapping with `workloads:` (and optional
`pools:`), or several YAML documents separated by `---`, each one workload. Validation is the
workload schema's (`workload_schema.parse_workloads`); this module only turns file and YAML
problems into InputErrors that name the file and line. A workload may carry a `source:` block
(where its history lives, `actuator/source.py`): it is split off here before the schema sees
the workload, and read by `load_sources`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from actuator import source as source_module
from actuator import workload_schema, yamldoc
from kernel import errors
from planner import spec

SOURCE_KEY = "source"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.InputError(
            f"workload file {path} does not exist; pass --workload with a YAML spec "
            "(see actuator/examples/workload.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(
            f"workload file {path} cannot be read ({exc}); pass a readable UTF-8 YAML file"
        ) from None


def load(path: Path) -> tuple[spec.WorkloadSpec, ...]:
    """Read and validate a workload YAML file; raise one InputError listing every problem."""
    return parse(_read(path), source=str(path))


def load_sources(path: Path) -> dict[str, source_module.SourceSpec]:
    """The `source:` block of each workload of the file that has one, by workload name."""
    return parse_sources(_read(path), where=str(path))


def _documents(text: str, source_name: str) -> object:
    documents = yamldoc.load_all(text, source=f"workload file {source_name}")
    if not documents:
        raise errors.InputError(
            f"workload file {source_name} is empty; define at least one workload "
            "(name, unit, gpu, max_replicas, ...)"
        )
    return documents[0] if len(documents) == 1 else documents


def split_sources(data: object) -> tuple[object, list[tuple[str, object]]]:
    """The document without `source:` keys, and each (workload name, raw source) removed."""
    found: list[tuple[str, object]] = []

    def strip(item: object, index: int) -> object:
        if isinstance(item, Mapping) and SOURCE_KEY in item:
            found.append((str(item.get("name", f"workloads[{index}]")), item[SOURCE_KEY]))
            return {k: v for k, v in item.items() if k != SOURCE_KEY}
        return item

    if isinstance(data, Mapping) and "workloads" in data and isinstance(data["workloads"], list):
        stripped = [strip(item, i) for i, item in enumerate(data["workloads"])]
        return {**data, "workloads": stripped}, found
    if isinstance(data, list):
        return [strip(item, i) for i, item in enumerate(data)], found
    return strip(data, 0), found


def parse(text: str, *, source: str = "<workload>") -> tuple[spec.WorkloadSpec, ...]:
    """Validate workload YAML text (one or many documents); `source:` blocks are set aside."""
    data, _ = split_sources(_documents(text, source))
    try:
        return workload_schema.parse_workloads(data)
    except errors.InputError as exc:
        raise errors.InputError([f"workload file {source}: {p}" for p in exc.problems]) from None


def parse_sources(text: str, *, where: str = "<workload>") -> dict[str, source_module.SourceSpec]:
    """Every workload's `source:` block validated, by workload name (one InputError for all)."""
    _, found = split_sources(_documents(text, where))
    problems: list[str] = []
    sources: dict[str, source_module.SourceSpec] = {}
    for name, raw in found:
        try:
            sources[name] = source_module.parse(raw, where=f"workload {name}: source")
        except errors.InputError as exc:
            problems.extend(f"workload file {where}: {p}" for p in exc.problems)
    if problems:
        raise errors.InputError(problems)
    return sources
