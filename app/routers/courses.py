"""Courses, their categories, and course enrollments."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from app.auth.actor import Actor, acting_for, requires
from app.dependencies import Gateway
from app.models import MAX_EPOCH_MS, NOT_BLANK, PatchBody, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}", route_class=IdempotentPostRoute)

CourseStatus = Literal["draft", "published", "archived"]
EnrollmentStatus = Literal["active", "completed", "withdrawn", "removed"]


class Course(ResponseBody):
    id: str
    title: str
    description: str | None = None
    status: CourseStatus
    cpdPoints: int
    startAt: int | None = None
    createdAt: int
    updatedAt: int


class CourseCategory(ResponseBody):
    id: str
    name: str
    slug: str


class CourseCreate(RequestBody):
    title: str = Field(min_length=1, pattern=NOT_BLANK, max_length=200, examples=["Fire Safety Essentials"])
    description: str | None = Field(default=None, max_length=5000)
    cpdPoints: int | None = Field(default=None, ge=0, le=1000)
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    categoryIds: list[str] | None = Field(default=None, max_length=20)


class CourseUpdate(PatchBody):
    title: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    cpdPoints: int | None = Field(default=None, ge=0, le=1000)
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)


class Enrollment(ResponseBody):
    id: str
    courseId: str
    memberId: str
    status: EnrollmentStatus
    enrolledAt: int
    completedAt: int | None = None
    cpdPointsAwarded: int | None = None


class EnrolledMember(ResponseBody):
    id: str
    firstName: str
    lastName: str
    email: str


class EnrollmentWithMember(Enrollment):
    member: EnrolledMember


class EnrollmentCreate(RequestBody):
    memberId: str | None = Field(default=None, description="Staff: the member to enrol. Members leave it out.")


# ---- courses ---------------------------------------------------------------


@router.get(
    "/courses",
    tags=["courses"],
    operation_id="listCourses",
    summary="List courses",
    response_model=Page[Course],
    responses=LIST_ERRORS,
)
async def list_courses(
    actor: Annotated[Actor, requires("courses.read")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[
        CourseStatus | None, Query(alias="status", description="Staff only for other than published.")
    ] = None,
) -> dict:
    """Lists the client's courses, newest first, optionally by `status`; only staff may ask for draft or archived
    courses (others get 403 `forbidden`). Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the
    `Link` header."""
    return await list_page(gateway, "courses:list", actor, page, status=status_)


@router.get(
    "/courses/{courseId}",
    tags=["courses"],
    operation_id="getCourse",
    summary="Read one course",
    response_model=Course,
    responses=READ_ERRORS,
)
async def get_course(courseId: str, actor: Annotated[Actor, requires("courses.read")], gateway: Gateway) -> dict:
    """Returns one course. A draft or archived course reads as 404 `not_found` to callers who are not staff."""
    return await gateway.query("courses:get", {"actor": actor.arg(), "courseId": courseId})


@router.post(
    "/courses",
    tags=["courses"],
    operation_id="createCourse",
    summary="Create a draft course",
    status_code=status.HTTP_201_CREATED,
    response_model=Course,
    responses=WRITE_ERRORS,
)
async def create_course(
    body: CourseCreate, actor: Annotated[Actor, requires("courses.create")], gateway: Gateway
) -> dict:
    """Creates a course in `draft` status, optionally tagged with up to 20 of the client's categories (a category id
    unknown in this client answers 404 `not_found`). Publish it afterwards to make it visible to members."""
    return await gateway.mutation("courses:create", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})


@router.patch(
    "/courses/{courseId}",
    tags=["courses"],
    operation_id="updateCourse",
    summary="Edit a course",
    response_model=Course,
    responses=WRITE_ERRORS,
)
async def update_course(
    courseId: str, body: CourseUpdate, actor: Annotated[Actor, requires("courses.update")], gateway: Gateway
) -> dict:
    """Edits a course's title, description, CPD points or start time; only the fields sent change. Used by staff while
    preparing or maintaining a course."""
    return await gateway.mutation(
        "courses:update", {"actor": actor.arg(), "courseId": courseId, **body.model_dump(exclude_none=True)}
    )


def _status_route(verb: str, target: CourseStatus, operation_id: str, summary: str) -> None:
    @router.post(
        f"/courses/{{courseId}}/{verb}",
        tags=["courses"],
        operation_id=operation_id,
        summary=summary,
        response_model=Course,
        responses=WRITE_ERRORS,
    )
    async def change_status(
        courseId: str, actor: Annotated[Actor, requires("courses.publish")], gateway: Gateway
    ) -> dict:
        """Moves the course along its life cycle, draft -> published -> archived; a published course is visible to
        members and takes enrollments. Any other step, such as publishing an archived course, fails with 409
        `invalid_transition`."""
        return await gateway.mutation(
            "courses:setStatus", {"actor": actor.arg(), "courseId": courseId, "status": target}
        )


_status_route("publish", "published", "publishCourse", "Publish a draft course")
_status_route("archive", "archived", "archiveCourse", "Archive a published course")


@router.delete(
    "/courses/{courseId}",
    tags=["courses"],
    operation_id="deleteCourse",
    summary="Delete a course with no enrollments",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def delete_course(
    courseId: str, actor: Annotated[Actor, requires("courses.delete")], gateway: Gateway
) -> Response:
    """Deletes a course and its category links. A course that has any enrollment, even a withdrawn one, cannot be
    deleted and fails with 409 `conflict`; archive it instead."""
    await gateway.mutation("courses:remove", {"actor": actor.arg(), "courseId": courseId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/courses/{courseId}/categories",
    tags=["courses"],
    operation_id="listCourseCategories",
    summary="A course's categories",
    response_model=list[CourseCategory],
    responses=READ_ERRORS,
)
async def list_course_categories(
    courseId: str, actor: Annotated[Actor, requires("courses.read")], gateway: Gateway
) -> list:
    """Returns the categories a course is tagged with (a short, unpaged list). A course the caller may not see (drafts
    and archived ones for non-staff) answers 404 `not_found`."""
    return await gateway.query("courses:listCategories", {"actor": actor.arg(), "courseId": courseId})


@router.put(
    "/courses/{courseId}/categories/{categoryId}",
    tags=["courses"],
    operation_id="addCourseCategory",
    summary="Put a category on a course",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def add_course_category(
    courseId: str, categoryId: str, actor: Annotated[Actor, requires("courses.update")], gateway: Gateway
) -> Response:
    """Tags a course with one of the client's categories. Fails with 409 `conflict` if the course already has it, and
    with 404 `not_found` if either id is unknown in this client."""
    await gateway.mutation(
        "courses:addCategory", {"actor": actor.arg(), "courseId": courseId, "categoryId": categoryId}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/courses/{courseId}/categories/{categoryId}",
    tags=["courses"],
    operation_id="removeCourseCategory",
    summary="Take a category off a course",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def remove_course_category(
    courseId: str, categoryId: str, actor: Annotated[Actor, requires("courses.update")], gateway: Gateway
) -> Response:
    """Takes a category off a course; the category itself is kept. Answers 404 `not_found` if the course does not have
    that category."""
    await gateway.mutation(
        "courses:removeCategory", {"actor": actor.arg(), "courseId": courseId, "categoryId": categoryId}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- enrollments -----------------------------------------------------------


@router.post(
    "/courses/{courseId}/enrollments",
    tags=["enrollments"],
    operation_id="enrolInCourse",
    summary="Enrol in a course (yourself, or a member on its behalf)",
    status_code=status.HTTP_201_CREATED,
    response_model=Enrollment,
    responses=WRITE_ERRORS,
)
async def enrol(
    courseId: str,
    body: EnrollmentCreate,
    actor: Annotated[Actor, requires("enrollments.enrolSelf", "enrollments.enrolMember")],
    gateway: Gateway,
) -> dict:
    """Enrols the calling member in a published course or, with `memberId`, lets staff enrol a member on its behalf
    (staff who leave `memberId` out get 422 `validation`). Fails with 409 `already_enrolled` if the member already has
    an active enrollment in the course, and with 409 `conflict` if the course is not published or the member is not
    active."""
    if not acting_for(actor, body.memberId, "enrollments.enrolSelf", "enrollments.enrolMember"):
        return await gateway.mutation("enrollments:enrolSelf", {"actor": actor.arg(), "courseId": courseId})
    return await gateway.mutation(
        "enrollments:enrolMember", {"actor": actor.arg(), "courseId": courseId, "memberId": body.memberId}
    )


@router.get(
    "/courses/{courseId}/enrollments",
    tags=["enrollments"],
    operation_id="listCourseEnrollments",
    summary="A course's enrollments, with members (staff)",
    response_model=Page[EnrollmentWithMember],
    responses=LIST_ERRORS,
)
async def list_course_enrollments(
    courseId: str,
    actor: Annotated[Actor, requires("enrollments.list")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
) -> dict:
    """Lists a course's enrollments with each member's name and email, optionally by `status`, for staff rosters. Paged
    with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "enrollments:listForCourse", actor, page, courseId=courseId, status=status_)


@router.get(
    "/enrollments/mine",
    tags=["enrollments"],
    operation_id="listMyEnrollments",
    summary="Your own enrollments",
    response_model=Page[Enrollment],
    responses=LIST_ERRORS,
)
async def list_my_enrollments(
    actor: Annotated[Actor, requires("enrollments.readOwn")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
) -> dict:
    """Lists the calling member's own enrollments, optionally by `status`; a caller without a member profile in this
    client gets 422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await list_page(gateway, "enrollments:listMine", actor, page, status=status_)


@router.get(
    "/enrollments/{enrollmentId}",
    tags=["enrollments"],
    operation_id="getEnrollment",
    summary="Read one enrollment (your own, or any as staff)",
    response_model=Enrollment,
    responses=READ_ERRORS,
)
async def get_enrollment(
    enrollmentId: str, actor: Annotated[Actor, requires("enrollments.list", "enrollments.readOwn")], gateway: Gateway
) -> dict:
    """Returns one enrollment: staff may read any, a member only its own (another member's reads as 404 `not_found`)."""
    return await gateway.query("enrollments:get", {"actor": actor.arg(), "enrollmentId": enrollmentId})


@router.post(
    "/enrollments/{enrollmentId}/withdraw",
    tags=["enrollments"],
    operation_id="withdrawEnrollment",
    summary="Withdraw (your own; any as client_admin)",
    response_model=Enrollment,
    responses=WRITE_ERRORS,
)
async def withdraw(
    enrollmentId: str,
    actor: Annotated[Actor, requires("enrollments.withdrawOwn", "enrollments.remove")],
    gateway: Gateway,
) -> dict:
    """Ends an active enrollment: a member withdraws its own (status `withdrawn`), a client_admin may remove any (status
    `removed`). An enrollment that is no longer active fails with 409 `invalid_transition`."""
    return await gateway.mutation("enrollments:withdraw", {"actor": actor.arg(), "enrollmentId": enrollmentId})


@router.post(
    "/enrollments/{enrollmentId}/complete",
    tags=["enrollments"],
    operation_id="completeEnrollment",
    summary="Mark completed; awards the course's CPD points once",
    response_model=Enrollment,
    responses=WRITE_ERRORS,
)
async def complete(
    enrollmentId: str, actor: Annotated[Actor, requires("enrollments.complete")], gateway: Gateway
) -> dict:
    """Marks an active enrollment completed and adds the course's CPD points to the member, exactly once. Completing an
    already completed enrollment returns it unchanged; a withdrawn or removed one fails with 409 `invalid_transition`.
    """
    return await gateway.mutation("enrollments:complete", {"actor": actor.arg(), "enrollmentId": enrollmentId})
