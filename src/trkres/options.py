"""Options of an analysis: one pydantic model per analysis, validated once.

The same model is filled from command-line options, from ``study.yaml``'s
``options: {analysis: {...}}`` and from Python keyword arguments, so a bad value
gets the same message wherever it comes from (the study manifest adds the line
and column of the YAML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from trkres.errors import InputError

__all__ = ["Options", "validate_options"]


class Options(BaseModel):
    """Base of every analysis' options: unknown names are refused, values are checked;
    a yes/no where a number belongs is refused (YAML reads ``patients: yes`` as true, which
    pydantic would take as 1)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(str(info.field_name))
        if isinstance(value, bool) and field is not None and _number_only(field.annotation):
            raise ValueError(f"a number, not {value!r} (a yes/no)")
        return value


def _number_only(annotation: Any) -> bool:
    """Whether a field takes int or float and never bool."""
    kinds = _kinds(annotation)
    return bool(kinds & {int, float}) and bool not in kinds


def _kinds(annotation: Any) -> set[Any]:
    args = get_args(annotation)
    if not args:
        return {annotation}
    if get_origin(annotation) is Literal:
        return {type(a) for a in args}
    out: set[Any] = set()
    for arg in args:
        out |= _kinds(arg)
    return out


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def _name(loc: tuple[int | str, ...], source: Literal["cli", "api"]) -> str:
    field = str(loc[0]) if loc else "?"
    return f"--{field.replace('_', '-')}" if source == "cli" else field


def validate_options(
    model: type[OptionsT],
    values: Mapping[str, Any] | BaseModel | None = None,
    *,
    source: Literal["cli", "api"] = "api",
    **kwargs: Any,
) -> OptionsT:
    """``model`` filled from ``values`` and ``kwargs``; a bad value raises :class:`InputError`.

    ``source`` only shapes the option's name in the message (``--dose-unit`` on the
    command line, ``dose_unit`` in Python). An instance of ``model`` passes through
    (updated by ``kwargs``, re-validated).
    """
    if isinstance(values, model):
        values = values.model_dump()
    elif isinstance(values, BaseModel):
        raise InputError(
            "wrong options object", expected=model.__name__, found=type(values).__name__
        )
    merged = {**(values or {}), **kwargs}
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        found = err.get("input")
        kind = "unknown option" if err["type"] == "extra_forbidden" else "bad option"
        raise InputError(
            f"{kind} {_name(err['loc'], source)}"
            if err["loc"]
            else "options that do not fit together",
            expected=(
                "one of: " + ", ".join(sorted(model.model_fields))
                if err["type"] == "extra_forbidden"
                else err["msg"]
            ),
            # A rule across options names its options in ``expected``; the whole dict would be noise.
            found=repr(found)[:300] if err["loc"] else None,
        ) from None
