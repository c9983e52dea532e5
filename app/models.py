"""Shared pydantic bases for request and response bodies."""

from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from app.contract import LIMITS, PATTERNS

# Names and titles must hold a visible character. JSON Schema's `pattern` matches anywhere, as
# pydantic's does, so the OpenAPI document states exactly the rule the BFF applies. Text is
# kept as sent (no stripping), so the documented length limits are the limits applied.
NOT_BLANK: str = PATTERNS["notBlank"]

# Times are milliseconds since the epoch, up to the end of year 9999: well inside the integers
# Convex stores exactly as float64 (2^53), so no input can be rounded on the way in.
MAX_EPOCH_MS: int = LIMITS["maxEpochMs"]


class RequestBody(BaseModel):
    """Request bodies reject unknown fields: no mass assignment of clientId, status, role..."""

    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PatchBody(RequestBody):
    """A partial update: every field optional, at least one given (also in the schema)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _at_least_one_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self
