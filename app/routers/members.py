"""Member profiles and their interests."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import EmailStr, Field

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import NOT_BLANK, PatchBody, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}", tags=["members"], route_class=IdempotentPostRoute)

MemberStatus = Literal["active", "inactive", "suspended"]
PHONE = r"^[+0-9 ()-]{0,30}$"


class Member(ResponseBody):
    id: str
    userId: str | None = Field(default=None, description="Set when the member can sign in.")
    firstName: str
    lastName: str
    email: str
    phone: str | None = None
    status: MemberStatus
    cpdPoints: int
    createdAt: int
    updatedAt: int


class Interest(ResponseBody):
    id: str
    name: str


class MemberCreate(RequestBody):
    firstName: str = Field(min_length=1, pattern=NOT_BLANK, max_length=100, examples=["Mia"])
    lastName: str = Field(min_length=1, pattern=NOT_BLANK, max_length=100, examples=["Member"])
    email: EmailStr
    phone: str | None = Field(default=None, pattern=PHONE)
    status: MemberStatus | None = None
    cpdPoints: int | None = Field(default=None, ge=0, le=100_000)


class MemberUpdate(PatchBody):
    firstName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=100)
    lastName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=PHONE)
    status: MemberStatus | None = None
    cpdPoints: int | None = Field(default=None, ge=0, le=100_000)


class MyProfileUpdate(PatchBody):
    """A member's own edit: names and phone only (status and CPD points are the client's)."""

    firstName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=100)
    lastName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE)


class InterestsPut(RequestBody):
    interestCategoryIds: list[str] = Field(max_length=50)


@router.get(
    "/members",
    operation_id="listMembers",
    summary="List, search and filter members (staff)",
    response_model=Page[Member],
    responses=LIST_ERRORS,
)
async def list_members(
    actor: Annotated[Actor, requires("members.read")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[MemberStatus | None, Query(alias="status")] = None,
    search: Annotated[
        str | None,
        Query(min_length=1, pattern=NOT_BLANK, max_length=100, description="Prefix of 'first last', any case."),
    ] = None,
    email: Annotated[str | None, Query(max_length=254, description="Exact email.")] = None,
) -> dict:
    """Lists the client's members in name order, by `status` and/or a name prefix (`search`), or by an exact `email`
    alone, for staff directories. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await list_page(gateway, "members:list", actor, page, status=status_, search=search, email=email)


@router.get(
    "/members/me",
    operation_id="getMyProfile",
    summary="Your own member profile",
    response_model=Member,
    responses=READ_ERRORS,
)
async def get_my_profile(actor: Annotated[Actor, requires("members.readOwn")], gateway: Gateway) -> dict:
    """Returns the caller's own member profile, for a member portal's account page. A caller without a member profile in
    this client gets 422 `validation`."""
    return await gateway.query("members:getMine", {"actor": actor.arg()})


@router.patch(
    "/members/me",
    operation_id="updateMyProfile",
    summary="Edit your own names and phone",
    response_model=Member,
    responses=WRITE_ERRORS,
)
async def update_my_profile(
    body: MyProfileUpdate, actor: Annotated[Actor, requires("members.updateOwn")], gateway: Gateway
) -> dict:
    """Lets a member edit its own first name, last name and phone; email, status and CPD points stay the client's to
    change. A caller without a member profile in this client gets 422 `validation`."""
    return await gateway.mutation("members:updateMine", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})


@router.get(
    "/members/{memberId}",
    operation_id="getMember",
    summary="Read a member (yourself, or any as staff)",
    response_model=Member,
    responses=READ_ERRORS,
)
async def get_member(
    memberId: str, actor: Annotated[Actor, requires("members.read", "members.readOwn")], gateway: Gateway
) -> dict:
    """Returns one member profile: staff may read any, a member only itself (another member reads as 404 `not_found`)."""
    return await gateway.query("members:get", {"actor": actor.arg(), "memberId": memberId})


@router.post(
    "/members",
    operation_id="createMember",
    summary="Create a member (client_admin)",
    status_code=status.HTTP_201_CREATED,
    response_model=Member,
    responses=WRITE_ERRORS,
)
async def create_member(
    body: MemberCreate, actor: Annotated[Actor, requires("members.create")], gateway: Gateway
) -> dict:
    """Creates a member profile, `active` with 0 CPD points unless given. The email must be unique within the client,
    otherwise 409 `conflict`."""
    return await gateway.mutation("members:create", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})


@router.patch(
    "/members/{memberId}",
    operation_id="updateMember",
    summary="Edit a member (client_admin)",
    response_model=Member,
    responses=WRITE_ERRORS,
)
async def update_member(
    memberId: str, body: MemberUpdate, actor: Annotated[Actor, requires("members.update")], gateway: Gateway
) -> dict:
    """Edits a member profile, status and CPD points included; only the fields sent change. An email that another member
    of the client already has fails with 409 `conflict`."""
    return await gateway.mutation(
        "members:update", {"actor": actor.arg(), "memberId": memberId, **body.model_dump(exclude_none=True)}
    )


@router.delete(
    "/members/{memberId}",
    operation_id="deleteMember",
    summary="Delete a member with no active enrollment or registration (client_admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def delete_member(
    memberId: str, actor: Annotated[Actor, requires("members.delete")], gateway: Gateway
) -> Response:
    """Deletes a member profile and its interests. A member with an active enrollment or an active event registration
    (pending, confirmed, paid or checked in) cannot be deleted: 409 `conflict`."""
    await gateway.mutation("members:remove", {"actor": actor.arg(), "memberId": memberId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/members/{memberId}/interests",
    operation_id="listMemberInterests",
    summary="A member's interests",
    response_model=list[Interest],
    responses=READ_ERRORS,
)
async def list_interests(
    memberId: str, actor: Annotated[Actor, requires("members.read", "members.readOwn")], gateway: Gateway
) -> list:
    """Returns a member's interests (a short, unpaged list): staff may read anyone's, a member only its own (another
    member reads as 404 `not_found`)."""
    return await gateway.query("members:listInterests", {"actor": actor.arg(), "memberId": memberId})


@router.put(
    "/members/{memberId}/interests",
    operation_id="setMemberInterests",
    summary="Replace a member's interests (your own, or any as client_admin)",
    response_model=list[Interest],
    responses=WRITE_ERRORS,
)
async def set_interests(
    memberId: str,
    body: InterestsPut,
    actor: Annotated[Actor, requires("members.update", "members.updateOwn")],
    gateway: Gateway,
) -> list:
    """Replaces a member's interests with the given interest categories (at most 50); a member may set only its own. An
    interest category or member unknown in this client answers 404 `not_found`."""
    return await gateway.mutation(
        "members:setInterests",
        {"actor": actor.arg(), "memberId": memberId, "interestCategoryIds": body.interestCategoryIds},
    )


@router.get(
    "/interest-categories",
    operation_id="listInterestCategories",
    summary="The client's interest categories",
    response_model=Page[Interest],
    responses=LIST_ERRORS,
)
async def list_interest_categories(
    actor: Annotated[Actor, requires("categories.read")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists the client's interest categories in name order, to offer when members pick their interests. Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "members:listInterestCategories", actor, page)
