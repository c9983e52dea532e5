"""Shared pydantic bases for request and response bodies."""

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from app.facts import LIMITS, PATTERNS

# Names and titles must hold a visible character. JSON Schema's `pattern` matches anywhere, as
# pydantic's does, so the OpenAPI document states exactly the rule the BFF applies. Text is
# kept as sent (no stripping), so the documented length limits are the limits applied.
NOT_BLANK: str = PATTERNS["notBlank"]

# Times are milliseconds since the epoch, up to the end of year 9999: well inside the integers
# Convex stores exactly as float64 (2^53), so no input can be rounded on the way in.
MAX_EPOCH_MS: int = LIMITS["maxEpochMs"]


class RequestBody(BaseModel):
    """Request bodies reject unknown fields (no mass assignment of clientId, status, role...) and
    take JSON types as declared: `true`, `"12"` or `false` is no integer or time, so a client's
    mistake is a 422 naming the field, never a value stored as 1, 12 or 1970 (an integer is
    still a number where a float is declared)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers_are_integers(cls, data: Any) -> Any:
        # JSON has one number type: 12.0 is the integer 12 (JSON Schema's `integer` says so too,
        # and generators send it), while 12.5 stays a float that an integer field refuses.
        return _integral_to_int(data)


def _integral_to_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_to_int(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_to_int(item) for item in value]
    return value


class ResponseBody(BaseModel):
    """Response bodies take Convex's values as they come (its numbers are floats: 3.0 is the
    integer 3) and are always sent whole, optional fields as null: the schema says so, each field
    required, so generated clients need no checks for a field that is never missing."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


class PatchBody(RequestBody):
    """A partial update: every field optional, at least one given (also in the schema)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _at_least_one_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self
