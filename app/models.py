"""Shared pydantic bases for request and response bodies."""

from pydantic import BaseModel, ConfigDict, model_validator


class RequestBody(BaseModel):
    """Request bodies reject unknown fields: no mass assignment of clientId, status, role..."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseBody(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PatchBody(RequestBody):
    """A partial update: every field optional, at least one given."""

    @model_validator(mode="after")
    def _at_least_one_field(self):
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self
