"""Members (convex/members.ts): routes, schemas, the CSV export, and what the API document says of them."""

from app.http.domain import Domain, Examples, IdParameter
from app.members import export, routes, schemas
from app.openapi import demo

DOMAIN = Domain(
    routers=(
        routes.router,
        export.router,
    ),
    tags={"members": "Member profiles, their interests, and the member CSV export."},
    ids={"memberId": IdParameter("listMembers", ("Member",))},
    examples=Examples(
        parameters=demo.acting_on(
            memberId={
                "MEMBER_MIA": ("getMember", "listMemberInterests", "setMemberInterests"),
                "MEMBER_MAX": ("updateMember",),
                "MEMBER_KAI": ("deleteMember",),
            }
        ),
        bodies={
            "updateMember": {"phone": "+44 20 7946 0123", "cpdPoints": 12},
            "updateMyProfile": {"phone": "+44 20 7946 0456"},
            "setMemberInterests": {
                "interestCategoryIds": [demo.document("INTEREST_LEADERSHIP"), demo.document("INTEREST_COMPLIANCE")]
            },
        },
        try_it_out={"getMyProfile": demo.AS_A_MEMBER, "updateMyProfile": demo.AS_A_MEMBER},
    ),
)

__all__ = ["DOMAIN", "export", "routes", "schemas"]
