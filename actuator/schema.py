"""Shell: pydantic models at the YAML edge, and their errors in prescale's words.

Every file a user writes (the daemon's config, a workload spec, a `source:` block) is a pydantic
v2 model built on `Strict` (unknown keys refused, values frozen). `describe` turns each of
pydantic's errors into one problem that names the field's path, the value, the rule and the fix;
it is the one mapping from pydantic's error types to our wording:

- the type errors (`int_type`, `float_type`, ...) say what kind of value the field takes;
- the bound errors (`greater_than`, ...) state the field's bounds, read from its declaration (a
  field with a lower and an upper bound names both); an upper bound marked `LIMIT` is a guard
  against typos, said as "(the limit)";
- `extra_forbidden` gets a did-you-mean from the keys the model at that path knows;
- `missing` and the type errors say the fix declared on the field, if it has one
  (`json_schema_extra={"fix": ...}`, e.g. an example of the mapping it takes);
- our own validators raise `rule(...)`, a PydanticCustomError that carries its rule and fix.

`exponent_number` reads `1e12` as the number YAML 1.2 means, where PyYAML's YAML 1.1 gives text.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import annotated_types
import pydantic
import pydantic_core

# Error type of the rules our own validators raise (pydantic's own types are snake_case words).
RULE = "prescale_rule"
# Marks an upper bound that guards against typos rather than stating a real rule
# (`Annotated[int, Field(le=MAX_REPLICAS), LIMIT]`), so the message says "(the limit)".
LIMIT = "limit"
# A value under a key holding one of these words (`bearer_token_file`) is never shown.
SECRET_WORDS = frozenset({"password", "token"})


# A number with an exponent as YAML 1.2 writes it (`1e12`, `2.5E-3`). YAML 1.1, which PyYAML
# reads, takes a float only with a dot and a signed exponent (`1.0e+12`): `1e12` reaches the
# model as the text '1e12'. Plain digits in quotes ("8") stay text: the strict models refuse them.
_EXPONENT_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")


def exponent_number(value: object) -> object:
    """`1e12` as the float YAML 1.2 reads; any other value unchanged (the type check follows)."""
    if isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


class Strict(pydantic.BaseModel):
    """A YAML mapping: unknown keys are errors (with a did-you-mean), the result is frozen."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def rule(text: str, fix: str, *, value: object = None) -> pydantic_core.PydanticCustomError:
    """The error our validators raise: `text` follows the value, `fix` the semicolon; `{field}`
    in the fix becomes the field's path. `value` names the offending part of a larger input
    (the one bad item of a list)."""
    ctx = {"rule": text, "fix": fix} | ({"value": value} if value is not None else {})
    return pydantic_core.PydanticCustomError(RULE, "{rule}", ctx)


def path_text(loc: tuple[Any, ...], prefix: str = "") -> str:
    """`workloads[0].targets.on_demand` from pydantic's location tuple."""
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The pydantic model a field holds (directly, optionally, or as a mapping's values)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


def field_at(
    root: type[pydantic.BaseModel], loc: tuple[Any, ...]
) -> tuple[type[pydantic.BaseModel] | None, pydantic.fields.FieldInfo | None]:
    """The model owning the last key of `loc`, and that key's field (None if it is no field)."""
    model: type[pydantic.BaseModel] | None = root
    field = None
    for index, part in enumerate(loc):
        if model is None:
            return None, None
        if isinstance(part, int) or part not in model.model_fields:
            field = None
            continue  # a list index or a mapping's key: the values' model carries on
        field = model.model_fields[part]
        if index < len(loc) - 1:
            model = model_of(field.annotation)
    return model, field


def guess(key: str, known: list[str]) -> str | None:
    """The known key `key` most likely misspells, if one is close."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key(path: str, value: object, known: list[str], where: str) -> str:
    """How the config and `source:` blocks name an unknown key."""
    close = guess(path.rsplit(".", 1)[-1], known)
    hint = f"did you mean {close!r}?" if close else f"known keys: {', '.join(known)}"
    return f"{path} is not a known key{where}; {hint} (remove it or fix its spelling)"


UnknownKey = Callable[[str, object, list[str], str], str]


def describe(
    error: Mapping[str, Any],
    root: type[pydantic.BaseModel],
    *,
    prefix: str = "",
    where: str = "",
    loc: tuple[Any, ...] | None = None,
    owner: type[pydantic.BaseModel] | None = None,
    unknown: UnknownKey = unknown_key,
) -> str:
    """One pydantic error of a `root` model as `path (value) rule[ for where]; fix`.

    `loc` and `owner` override the error's location and the model owning its last key (a
    tagged union adds its tag to the location); `unknown` words an unknown key.
    """
    loc = tuple(error["loc"]) if loc is None else loc
    path = path_text(loc, prefix)
    model, field = field_at(root, loc)
    model = owner or model
    value = error.get("input")
    words = {w for part in loc for w in str(part).split("_")}
    shown = "<secret>" if words & SECRET_WORDS else repr(value)
    suffix = f" for {where}" if where else ""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "invalid_key":  # a key that is not text (YAML `1: x`)
        kind, path = "extra_forbidden", path_text((*loc[:-1], str(loc[-1])), prefix)
    if kind == "extra_forbidden":
        known = sorted(model.model_fields) if model is not None else []
        return unknown(path, value, known, suffix)
    extra = field.json_schema_extra if field is not None else None
    declared = extra.get("fix") if isinstance(extra, dict) else None  # the field's own fix
    if kind == "missing":
        return f"{path} is missing{suffix}; {declared or 'it is required, set it'}"
    if kind == RULE:
        shown = repr(ctx["value"]) if "value" in ctx else shown
        fix = str(ctx["fix"]).replace("{field}", path)
        return f"{path} ({shown}) {ctx['rule']}{suffix}; {fix}"
    if kind in _BOUNDS:
        return f"{path} ({shown}) {_bounds(kind, ctx, field, path, suffix)}"
    if kind in _TYPES:
        what, fix = _TYPES[kind]
        fix = str(declared or fix)
        return f"{path} ({shown}) {what}{suffix}; {fix.replace('{field}', path)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "enum":
        return f"{path} ({shown}) {message.lower()}{suffix}; use one of those"
    if message.startswith(("is ", "names ", "needs ")):
        return f"{path} ({shown}) {message}"
    if ";" in message:  # a model's own check, which names its values and fix
        return f"{path}: {message}"
    return f"{path} ({shown}) is invalid ({message}){suffix}; fix that value"


def _bounds(
    kind: str,
    ctx: Mapping[str, Any],
    field: pydantic.fields.FieldInfo | None,
    path: str,
    suffix: str,
) -> str:
    """`must be > 0 and <= 1; set f within that range` for a number, `must be >= 1; set f to 1
    or more` for a whole number, with `(the limit)` for a typo guard."""
    metadata = _metadata(field)
    low = next(
        (m for m in metadata if isinstance(m, annotated_types.Ge | annotated_types.Gt)), None
    )
    high = next(
        (m for m in metadata if isinstance(m, annotated_types.Le | annotated_types.Lt)), None
    )
    whole = field is not None and _whole(field.annotation)
    if not whole and low is not None and high is not None:
        low_text = f">= {low.ge:g}" if isinstance(low, annotated_types.Ge) else f"> {low.gt:g}"
        high_text = f"<= {high.le:g}" if isinstance(high, annotated_types.Le) else f"< {high.lt:g}"
        return f"must be {low_text} and {high_text}{suffix}; set {path} within that range"
    sign, key = _BOUNDS[kind]
    bound = ctx.get(key)
    if kind == "greater_than":
        return f"must be {sign} {bound}{suffix}; set {path} above {bound}"
    if kind == "greater_than_equal":
        return f"must be {sign} {bound}{suffix}; set {path} to {bound} or more"
    if LIMIT in metadata:
        return f"must be {sign} {bound:,} (the limit){suffix}; set {path} to {bound:,} or less"
    return f"must be {sign} {bound}{suffix}; set {path} to {bound} or less"


def _metadata(field: pydantic.fields.FieldInfo | None) -> list[Any]:
    """A field's constraints and markers, also where they sit inside `Annotated[...] | None`."""
    if field is None:
        return []
    found = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        for extra in getattr(arg, "__metadata__", ()):
            found.extend(
                extra.metadata if isinstance(extra, pydantic.fields.FieldInfo) else [extra]
            )
    return found


def _whole(annotation: Any) -> bool:
    if annotation is int:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(
            (typing.get_origin(a) is not None and typing.get_args(a)[0] is int) or a is int
            for a in typing.get_args(annotation)
        )
    return False


_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}
# What the value is not, and the fix ({field} is the path).
_TYPES = {
    "int_parsing": ("is not a whole number", "set {field} to an integer"),
    "int_type": ("is not a whole number", "set {field} to an integer"),
    "int_from_float": ("is not a whole number", "set {field} to an integer"),
    "float_type": ("is not a number", "set {field} to a number"),
    "float_parsing": ("is not a number", "set {field} to a number"),
    "finite_number": ("is not a number", "set {field} to a finite number"),
    "bool_parsing": ("is not true or false", "write true or false"),
    "bool_type": ("is not true or false", "write true or false"),
    "string_type": ("is not text", "write a string"),
    "string_too_short": ("is empty", "set {field}"),
    "dict_type": ("is not a mapping", "write `key: value` pairs"),
    "model_type": ("is not a mapping", "write `key: value` pairs"),
    "model_attributes_type": ("is not a mapping", "write `key: value` pairs"),
    "list_type": ("is not a list", "write a YAML list"),
    "path_type": ("is not a file path", "write a path"),
}
