"""Shell: YAML documents read strictly and within bounds (workload files, the daemon's config).

PyYAML's safe loader accepts a mapping that repeats a key (the last one silently wins) and
expands aliases without limit (a few hundred bytes of nested aliases become gigabytes: the
"billion laughs"). This loader refuses both, names the line, and caps the document's size,
counted as if every alias were written out.
"""

from __future__ import annotations

from typing import Any

import yaml

from kernel import errors

# A workload file or daemon config is a few KiB; 8 MiB leaves room for a thousand workloads
# while keeping a mistaken upload (a trace passed as --workload) from being parsed at all.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
# An alias is cheap to parse but each use repeats its whole subtree for whoever walks the data
# (a repr, a validator): nine levels of ten aliases are 10^9 nodes from 300 bytes. Bound the
# document's size as if every alias were written out: a thousand workloads of forty fields are
# about 10^5 nodes.
MAX_EXPANDED_NODES = 1_000_000


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and documents too large once aliases expand."""

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is None:
            return node
        size = _expanded_size(node, {})
        if size > MAX_EXPANDED_NODES:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the document expands to {size:,} nodes with its aliases written out, more "
                f"than {MAX_EXPANDED_NODES:,}; write the values out instead of nesting aliases",
                node.start_mark,
            )
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, list | dict):
                continue  # unhashable keys are refused by SafeLoader itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice (lines {seen[key]} and {line}); keep one",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes under `node` counting every alias use in full (memoised: linear in the text)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_EXPANDED_NODES + 1  # a cycle (an alias inside itself) is too large
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(key, memo) + _expanded_size(value, memo) for key, value in node.value
        )
    size = min(size, MAX_EXPANDED_NODES + 1)
    memo[id(node)] = size
    return size


def load_all(text: str, *, source: str) -> list[Any]:
    """Every non-empty document of `text`; an InputError naming `source` and the line if the
    YAML is invalid, repeats a key, or is too large (in bytes, or once its aliases expand)."""
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        raise errors.InputError(
            f"{source} ({size:,} bytes) is larger than {MAX_DOCUMENT_BYTES:,} bytes, the limit "
            "for a YAML file; pass the workload or config file, not a data file"
        )
    loader = _StrictLoader(text)
    try:
        documents = []
        while loader.check_data():  # type: ignore[no-untyped-call]
            document = loader.get_data()
            if document is not None:
                documents.append(document)
        return documents
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise errors.InputError(
            f"{source}{where}: invalid YAML ({problem}); fix the syntax there"
        ) from None
    finally:
        loader.dispose()
