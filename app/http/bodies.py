"""Shared pydantic bases for request and response bodies."""

from typing import Annotated, Any, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from app.facts import LIMITS, PATTERNS

# Names and titles must hold a visible character. JSON Schema's `pattern` matches anywhere, as
# pydantic's does, so the OpenAPI document states exactly the rule the BFF applies. Text is
# kept as sent (no stripping), so the documented length limits are the limits applied.
NOT_BLANK: str = PATTERNS["notBlank"]

# Times are milliseconds since the epoch, up to the end of year 9999: well inside the integers
# Convex stores exactly as float64 (2^53), so no input can be rounded on the way in.
MAX_EPOCH_MS: int = LIMITS["maxEpochMs"]


def _email_address(value: str) -> str:
    """The address, normalised as pydantic's EmailStr does it (the domain lower-cased; `Name
    <address>` gives the address), checked by the same email-validator for its syntax but not for
    the domain's reach. EmailStr refuses special-use names such as `.test`, which the platform
    itself stores and shows (the demo data's `member@acme.test`): `test_environment` lifts that
    refusal for `.test`, and since it would also let a bare `@test` through, a domain still needs
    a period, as Convex's own check asks (convex/lib/validate.ts, `email`)."""
    try:
        if "\r" in value or "\n" in value:  # as EmailStr: not even around the address
            raise EmailNotValidError("Carriage return and line feed characters are not allowed")
        address = validate_email(
            value.strip(), check_deliverability=False, test_environment=True, allow_display_name=True
        )
        if "." not in address.ascii_domain:
            raise EmailNotValidError("The part after the @-sign is not valid. It should have a period.")
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from error
    return address.normalized


# The one email type of every request body: the syntax checked, the address normalised, and in the
# OpenAPI document a string of `format: email`, as EmailStr's.
EmailAddress = Annotated[str, AfterValidator(_email_address), WithJsonSchema({"type": "string", "format": "email"})]


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
    required, so generated clients need no checks for a field that is never missing. Where one is
    a request body (a webhook's payload, which the receiver reads), its schema is the same: what is sent."""

    model_config = ConfigDict(
        extra="ignore", json_schema_serialization_defaults_required=True, json_schema_mode_override="serialization"
    )


class PatchBody(RequestBody):
    """A partial update: every field optional, at least one given (also in the schema)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _at_least_one_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self
