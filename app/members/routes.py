"""Member profiles and their interests (convex/members.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.deps import ActorGateway, Pagination, requires
from app.http.bodies import NOT_BLANK
from app.http.routing import DomainRouter
from app.members.schemas import (
    Interest,
    InterestsPut,
    Member,
    MemberCreate,
    MemberStatus,
    MemberUpdate,
    MyProfileUpdate,
)

router = DomainRouter(tag="members")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanCreateMembers = Annotated[ActorGateway, requires("members.create")]
CanDeleteMembers = Annotated[ActorGateway, requires("members.delete")]
CanReadCategories = Annotated[ActorGateway, requires("categories.read")]
CanReadMembers = Annotated[ActorGateway, requires("members.read")]
CanReadMember = Annotated[ActorGateway, requires("members.read", "members.readOwn")]
CanReadOwnMembers = Annotated[ActorGateway, requires("members.readOwn")]
CanUpdateMembers = Annotated[ActorGateway, requires("members.update")]
CanSetInterests = Annotated[ActorGateway, requires("members.update", "members.updateOwn")]
CanUpdateOwnMembers = Annotated[ActorGateway, requires("members.updateOwn")]


@router.lists("/members", "listMembers", "List, search and filter members", Member)
async def list_members(
    convex: CanReadMembers,
    page: Pagination,
    status_: Annotated[MemberStatus | None, Query(alias="status")] = None,
    search: Annotated[
        str | None,
        Query(min_length=1, pattern=NOT_BLANK, max_length=100, description="Prefix of 'first last', any case."),
    ] = None,
    email: Annotated[str | None, Query(max_length=254, description="Exact email.")] = None,
) -> dict[str, Any]:
    """Lists the client's members in name order, by `status` and/or a name prefix (`search`), or by an exact `email`
    alone, for staff directories. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await convex.list_page("members:list", page, status=status_, search=search, email=email)


@router.reads("/members/me", "getMyProfile", "Your own member profile", Member)
async def get_my_profile(convex: CanReadOwnMembers) -> dict[str, Any]:
    """Returns the caller's own member profile, for a member portal's account page. A caller without a member profile in
    this client gets 422 `validation`."""
    return await convex.query("members:getMine")


@router.writes("PATCH", "/members/me", "updateMyProfile", "Edit your own names and phone", Member)
async def update_my_profile(body: MyProfileUpdate, convex: CanUpdateOwnMembers) -> dict[str, Any]:
    """Lets a member edit its own first name, last name and phone; email, status and CPD points stay the client's to
    change. A caller without a member profile in this client gets 422 `validation`."""
    return await convex.mutation("members:updateMine", {**body.model_dump(exclude_none=True)})


@router.reads("/members/{memberId}", "getMember", "Read one member", Member)
async def get_member(memberId: str, convex: CanReadMember) -> dict[str, Any]:
    """Returns one member profile: staff may read any, a member only itself
    (another member reads as 404 `not_found`)."""
    return await convex.query("members:get", {"memberId": memberId})


@router.creates("/members", "createMember", "Create a member", Member, location="/members/{id}")
async def create_member(body: MemberCreate, convex: CanCreateMembers) -> dict[str, Any]:
    """Creates a member profile, `active` with 0 CPD points unless given. The email must be unique within the client,
    otherwise 409 `conflict`."""
    return await convex.mutation("members:create", {**body.model_dump(exclude_none=True)})


@router.writes("PATCH", "/members/{memberId}", "updateMember", "Edit a member", Member)
async def update_member(memberId: str, body: MemberUpdate, convex: CanUpdateMembers) -> dict[str, Any]:
    """Edits a member profile, status and CPD points included; only the fields sent change. An email that another member
    of the client already has fails with 409 `conflict`."""
    return await convex.mutation("members:update", {"memberId": memberId, **body.model_dump(exclude_none=True)})


@router.no_content(
    "DELETE",
    "/members/{memberId}",
    "deleteMember",
    "Delete a member with no active enrollment or registration",
)
async def delete_member(memberId: str, convex: CanDeleteMembers) -> None:
    """Deletes a member profile and its interests. A member with an active enrollment or an active event registration
    (pending, confirmed, paid or checked in) cannot be deleted: 409 `conflict`."""
    await convex.mutation("members:remove", {"memberId": memberId})


@router.reads("/members/{memberId}/interests", "listMemberInterests", "A member's interests", list[Interest])
async def list_interests(memberId: str, convex: CanReadMember) -> list[dict[str, Any]]:
    """Returns a member's interests (a short, unpaged list): staff may read anyone's, a member only its own (another
    member reads as 404 `not_found`)."""
    return await convex.query("members:listInterests", {"memberId": memberId})


@router.writes(
    "PUT",
    "/members/{memberId}/interests",
    "setMemberInterests",
    "Replace a member's interests",
    list[Interest],
)
async def set_interests(memberId: str, body: InterestsPut, convex: CanSetInterests) -> list[dict[str, Any]]:
    """Replaces a member's interests with the given interest categories (at most 50); a member may set only its own. An
    interest category or member unknown in this client answers 404 `not_found`."""
    return await convex.mutation(
        "members:setInterests", {"memberId": memberId, "interestCategoryIds": body.interestCategoryIds}
    )


@router.lists("/interest-categories", "listInterestCategories", "The client's interest categories", Interest)
async def list_interest_categories(convex: CanReadCategories, page: Pagination) -> dict[str, Any]:
    """Lists the client's interest categories in name order, to offer when members pick their interests. Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("members:listInterestCategories", page)
