"""Shared pydantic bases for request and response bodies."""

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """Request bodies reject unknown fields: no mass assignment of clientId, status, role..."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
