"""Members (convex/members.ts): routes, schemas, the CSV export, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.members import export, routes, schemas
from app.openapi.demo import (
    AS_A_MEMBER,
    INTEREST_COMPLIANCE,
    INTEREST_LEADERSHIP,
    MEMBER_KAI,
    MEMBER_MAX,
    MEMBER_MIA,
)

DOMAIN = Domain(
    routers=(routes.router, export.router),
    tags={"members": "Member profiles, their interests, and the member CSV export."},
    resources={"Member": "memberId"},
    listed_by={"memberId": "listMembers"},
    examples=Examples(
        parameters={
            "getMember": {"memberId": MEMBER_MIA},
            "updateMember": {"memberId": MEMBER_MAX},
            "deleteMember": {"memberId": MEMBER_KAI},
            "listMemberInterests": {"memberId": MEMBER_MIA},
            "setMemberInterests": {"memberId": MEMBER_MIA},
        },
        bodies={
            "updateMember": {"phone": "+44 20 7946 0123", "cpdPoints": 12},
            "updateMyProfile": {"phone": "+44 20 7946 0456"},
            "setMemberInterests": {"interestCategoryIds": [INTEREST_LEADERSHIP, INTEREST_COMPLIANCE]},
        },
        try_it_out={"getMyProfile": AS_A_MEMBER, "updateMyProfile": AS_A_MEMBER},
    ),
)

__all__ = ["DOMAIN", "export", "routes", "schemas"]
