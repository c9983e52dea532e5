"""Course enrollments (convex/enrollments.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.auth.actor import acting_for
from app.deps import ActorGateway, Pagination, requires
from app.enrollments.schemas import Enrollment, EnrollmentCreate, EnrollmentStatus, EnrollmentWithMember
from app.http.routing import DomainRouter

router = DomainRouter(tag="enrollments")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanCompleteEnrollments = Annotated[ActorGateway, requires("enrollments.complete")]
CanEnrol = Annotated[ActorGateway, requires("enrollments.enrolSelf", "enrollments.enrolMember")]
CanListEnrollments = Annotated[ActorGateway, requires("enrollments.list")]
CanReadEnrollment = Annotated[ActorGateway, requires("enrollments.list", "enrollments.readOwn")]
CanReadOwnEnrollments = Annotated[ActorGateway, requires("enrollments.readOwn")]
CanWithdrawEnrollment = Annotated[ActorGateway, requires("enrollments.withdrawOwn", "enrollments.remove")]


@router.creates(
    "/courses/{courseId}/enrollments",
    "enrolInCourse",
    "Enrol yourself or a member in a course",
    Enrollment,
    location="/enrollments/{id}",
)
async def enrol(courseId: str, body: EnrollmentCreate, convex: CanEnrol) -> dict[str, Any]:
    """Enrols the calling member in a published course or, with `memberId`, lets staff enrol a member on its behalf
    (staff who leave `memberId` out get 422 `validation`). Fails with 409 `already_enrolled` if the member already has
    an active enrollment in the course, and with 409 `conflict` if the course is not published or the member is not
    active."""
    if not acting_for(convex.actor, body.memberId, "enrollments.enrolSelf", "enrollments.enrolMember"):
        return await convex.mutation("enrollments:enrolSelf", {"courseId": courseId})
    return await convex.mutation("enrollments:enrolMember", {"courseId": courseId, "memberId": body.memberId})


@router.lists(
    "/courses/{courseId}/enrollments",
    "listCourseEnrollments",
    "A course's enrollments, with their members",
    EnrollmentWithMember,
)
async def list_course_enrollments(
    courseId: str,
    convex: CanListEnrollments,
    page: Pagination,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Lists a course's enrollments with each member's name and email, optionally by `status`, for staff rosters. Paged
    with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("enrollments:listForCourse", page, courseId=courseId, status=status_)


@router.lists("/enrollments/mine", "listMyEnrollments", "Your own enrollments", Enrollment)
async def list_my_enrollments(
    convex: CanReadOwnEnrollments,
    page: Pagination,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Lists the calling member's own enrollments, optionally by `status`; a caller without a member profile in this
    client gets 422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await convex.list_page("enrollments:listMine", page, status=status_)


@router.reads("/enrollments/{enrollmentId}", "getEnrollment", "Read one enrollment", Enrollment)
async def get_enrollment(enrollmentId: str, convex: CanReadEnrollment) -> dict[str, Any]:
    """Returns one enrollment: staff may read any, a member only its own (another member's reads as 404 `not_found`)."""
    return await convex.query("enrollments:get", {"enrollmentId": enrollmentId})


@router.writes(
    "POST",
    "/enrollments/{enrollmentId}/withdraw",
    "withdrawEnrollment",
    "Withdraw or remove an enrollment",
    Enrollment,
)
async def withdraw(enrollmentId: str, convex: CanWithdrawEnrollment) -> dict[str, Any]:
    """Ends an active enrollment: a member withdraws its own (status `withdrawn`), a client_admin may remove any (status
    `removed`). An enrollment that is no longer active fails with 409 `invalid_transition`."""
    return await convex.mutation("enrollments:withdraw", {"enrollmentId": enrollmentId})


@router.writes(
    "POST",
    "/enrollments/{enrollmentId}/complete",
    "completeEnrollment",
    "Mark completed; awards the course's CPD points once",
    Enrollment,
)
async def complete(enrollmentId: str, convex: CanCompleteEnrollments) -> dict[str, Any]:
    """Marks an active enrollment completed and adds the course's CPD points to the member, once per member and course
    ever: a refresher after an earlier completion completes with 0 points. Completing an already completed enrollment
    returns it unchanged; a withdrawn or removed one fails with 409 `invalid_transition`."""
    return await convex.mutation("enrollments:complete", {"enrollmentId": enrollmentId})
