"""API keys: request and response bodies."""

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.facts import TEXT_MAX
from app.http.bodies import NOT_BLANK, RequestBody, ResponseBody

ApiKeyRole = TypeAliasType(
    "ApiKeyRole", Literal["client_admin", "client_user", "member", "sponsor_admin", "sponsor_user"]
)


class ApiKey(ResponseBody):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise the key.")
    role: ApiKeyRole
    sponsorId: str | None = None
    createdAt: int
    revokedAt: int | None = None


class CreatedApiKey(ResponseBody):
    key: ApiKey
    secret: str = Field(description="Shown once. Send it as `X-API-Key` (or `Authorization: Bearer mp_...`).")


class ApiKeyCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"], examples=["CRM sync"])
    role: ApiKeyRole = Field(description="The role the key acts with; never above client_admin.")
    sponsorId: str | None = Field(default=None, description="Required for sponsor roles.")
