"""JSON round trip and JSON Schema for the frozen result dataclasses of ``deconfound.stats``.

The statistics layer returns typed, frozen objects; their JSON form is derived from the dataclass
fields here, in one place, so the analysis JSON, its schema file and the loader cannot drift apart.
A field declared with :func:`optional` is left out of the JSON when it is ``None`` (the key is
absent rather than null); every other field is always written. Non-finite floats become ``null``
(JSON has no NaN): :func:`finite` is the one NaN scrubber of the project.

The loader is strict: an unknown key, a missing key or a value of the wrong type is a
:class:`ContractError` naming the path of the offending value (``comparisons[0].sace_bounds.ci``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
from collections.abc import Mapping
from functools import cache
from typing import (
    Annotated,
    Any,
    ClassVar,
    Self,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

_T = TypeVar("_T")


class ContractError(ValueError):
    """A JSON document does not match the result types; ``path`` locates the offending value."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path or '(top level)'}: {message}")


def optional(default: Any = None, *, with_field: str | None = None) -> Any:
    """A dataclass field that is absent from the JSON when it is None.

    With ``with_field``, the key is written (possibly as null) exactly when that other field is
    not None: for a value that belongs to an optional block but may itself be undefined.
    """
    meta = {"omit_none": True} if with_field is None else {"omit_unless": with_field}
    return dataclasses.field(default=default, metadata=meta)


def _omitted(obj: Any, f: dataclasses.Field[Any], value: Any) -> bool:
    if "omit_unless" in f.metadata:
        return getattr(obj, f.metadata["omit_unless"]) is None
    return value is None and bool(f.metadata.get("omit_none"))


def finite(value: Any) -> float | None:
    """A JSON number: ``float(value)``, or None for None, NaN and ±inf."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def interval(low: Any, high: Any) -> tuple[float | None, float | None]:
    """An interval as a JSON pair, each end :func:`finite`."""
    return (finite(low), finite(high))


def to_jsonable(value: Any) -> Any:
    """The JSON form of a result object (or of any nesting of them, lists, tuples and dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if _omitted(value, f, v):
                continue
            out[f.name] = to_jsonable(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item"):  # a numpy scalar
        return to_jsonable(value.item())
    raise TypeError(f"no JSON form for {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=False)


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def decode(tp: Any, value: Any, path: str = "") -> Any:
    """``value`` (parsed JSON) as an instance of the type ``tp``, checked all the way down."""
    tp = _strip(tp)
    if tp is Any:
        return value
    if _is_union(tp):
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ContractError("is null but a value is required", path)
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return decode(arg, value, path)
            except ContractError as exc:
                errors.append(exc)
        raise errors[0]
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, value, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError as exc:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ContractError(f"{value!r} is not one of {allowed}", path) from exc
    if origin is list:
        (item,) = get_args(tp)
        if not isinstance(value, list):
            raise ContractError(f"expected a list, got {type(value).__name__}", path)
        return [decode(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list | tuple):
            raise ContractError(f"expected a list, got {type(value).__name__}", path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ContractError(f"expected {len(args)} items, got {len(value)}", path)
        pairs = enumerate(zip(args, value, strict=True))
        return tuple(decode(a, v, f"{path}[{i}]") for i, (a, v) in pairs)
    if origin is dict:
        _, item = get_args(tp)
        if not isinstance(value, dict):
            raise ContractError(f"expected an object, got {type(value).__name__}", path)
        return {str(k): decode(item, v, f"{path}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContractError(f"expected a number, got {value!r}", path)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContractError(f"expected an integer, got {value!r}", path)
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ContractError(f"expected a {tp.__name__}, got {value!r}", path)
        return value
    raise TypeError(f"{path}: no decoder for {tp!r}")


def _decode_dataclass(cls: Any, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise ContractError(
            f"expected an object ({cls.__name__}), got {type(value).__name__}", path
        )
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ContractError(
            f"unknown key(s) {', '.join(map(repr, unknown))} for {cls.__name__}", path
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        where = f"{path}.{name}" if path else name
        if name not in value:
            has_default = (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                raise ContractError(f"missing key {name!r} ({cls.__name__})", path)
            continue
        kwargs[name] = decode(hints[name], value[name], where)
    return cls(**kwargs)


class JsonResult:
    """Mixin for frozen result dataclasses: ``to_json()`` and ``from_json()``."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The JSON form: a dict of plain Python values (NaN as None)."""
        out = to_jsonable(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Parse the JSON form strictly; :class:`ContractError` names the first bad value."""
        return _decode_dataclass(cls, data, "")


# --------------------------------------------------------------------------------------------
# JSON Schema (draft 2020-12), derived from the same type hints


def json_schema(root: type, *, title: str, schema_id: str) -> dict[str, Any]:
    """The JSON Schema of ``root``'s JSON form, one ``$defs`` entry per dataclass."""
    defs: dict[str, Any] = {}
    body = _schema(root, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        **body,
        "$defs": dict(sorted(defs.items())),
    }


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    tp = _strip(tp)
    if tp is Any:
        return {}
    if _is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        nullable = len(members) < len(get_args(tp))
        parts = [_schema(a, defs) for a in members]
        if nullable:
            parts.append({"type": "null"})
        return parts[0] if len(parts) == 1 else {"anyOf": parts}
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = _hints(tp)
            props, required = {}, []
            for f in dataclasses.fields(tp):
                props[f.name] = _schema(hints[f.name], defs)
                if not (f.metadata.get("omit_none") or "omit_unless" in f.metadata):
                    required.append(f.name)
            doc = (tp.__doc__ or "").strip().split("\n")[0]
            defs[name] = {
                "type": "object",
                "description": doc,
                "properties": props,
                "required": required,
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(tp)[0], defs)}
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema(args[0], defs)}
        return {
            "type": "array",
            "prefixItems": [_schema(a, defs) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(get_args(tp)[1], defs)}
    simple = {float: "number", int: "integer", str: "string", bool: "boolean"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no schema for {tp!r}")
