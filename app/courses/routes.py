"""Courses and their category links (convex/courses.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.courses.schemas import Course, CourseCategory, CourseCreate, CourseStatus, CourseUpdate
from app.deps import ActorGateway, Pagination, requires
from app.http.routing import DomainRouter

router = DomainRouter(tag="courses")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanCreateCourses = Annotated[ActorGateway, requires("courses.create")]
CanDeleteCourses = Annotated[ActorGateway, requires("courses.delete")]
CanPublishCourses = Annotated[ActorGateway, requires("courses.publish")]
CanReadCourses = Annotated[ActorGateway, requires("courses.read")]
CanUpdateCourses = Annotated[ActorGateway, requires("courses.update")]


@router.lists("/courses", "listCourses", "List courses", Course)
async def list_courses(
    convex: CanReadCourses,
    page: Pagination,
    status_: Annotated[
        CourseStatus | None, Query(alias="status", description="Staff only for other than published.")
    ] = None,
) -> dict[str, Any]:
    """Lists the client's courses, newest first, optionally by `status`; only staff may ask for draft or archived
    courses (others get 403 `forbidden`). Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the
    `Link` header."""
    return await convex.list_page("courses:list", page, status=status_)


@router.reads("/courses/{courseId}", "getCourse", "Read one course", Course)
async def get_course(courseId: str, convex: CanReadCourses) -> dict[str, Any]:
    """Returns one course. A draft or archived course reads as 404 `not_found` to callers who are not staff."""
    return await convex.query("courses:get", {"courseId": courseId})


@router.creates("/courses", "createCourse", "Create a draft course", Course, location="/courses/{id}")
async def create_course(body: CourseCreate, convex: CanCreateCourses) -> dict[str, Any]:
    """Creates a course in `draft` status, optionally tagged with up to 20 of the client's categories (a category id
    unknown in this client answers 404 `not_found`). Publish it afterwards to make it visible to members."""
    return await convex.mutation("courses:create", {**body.model_dump(exclude_none=True)})


@router.writes("PATCH", "/courses/{courseId}", "updateCourse", "Edit a course", Course)
async def update_course(courseId: str, body: CourseUpdate, convex: CanUpdateCourses) -> dict[str, Any]:
    """Edits a course's title, description, CPD points or start time; only the fields sent change. Used by staff while
    preparing or maintaining a course."""
    return await convex.mutation("courses:update", {"courseId": courseId, **body.model_dump(exclude_none=True)})


def _status_route(verb: str, target: CourseStatus, operation_id: str, summary: str) -> None:
    @router.writes("POST", f"/courses/{{courseId}}/{verb}", operation_id, summary, Course)
    async def change_status(courseId: str, convex: CanPublishCourses) -> dict[str, Any]:
        """Moves the course along its life cycle, draft -> published -> archived; a published course is visible to
        members and takes enrollments. Any other step, such as publishing an archived course, fails with 409
        `invalid_transition`."""
        return await convex.mutation("courses:setStatus", {"courseId": courseId, "status": target})


_status_route("publish", "published", "publishCourse", "Publish a draft course")

_status_route("archive", "archived", "archiveCourse", "Archive a published course")


@router.no_content("DELETE", "/courses/{courseId}", "deleteCourse", "Delete a course with no enrollments")
async def delete_course(courseId: str, convex: CanDeleteCourses) -> None:
    """Deletes a course and its category links. A course that has any enrollment, even a withdrawn one, cannot be
    deleted and fails with 409 `conflict`; archive it instead."""
    await convex.mutation("courses:remove", {"courseId": courseId})


@router.reads("/courses/{courseId}/categories", "listCourseCategories", "A course's categories", list[CourseCategory])
async def list_course_categories(courseId: str, convex: CanReadCourses) -> list[dict[str, Any]]:
    """Returns the categories a course is tagged with (a short, unpaged list). A course the caller may not see (drafts
    and archived ones for non-staff) answers 404 `not_found`."""
    return await convex.query("courses:listCategories", {"courseId": courseId})


@router.no_content(
    "PUT", "/courses/{courseId}/categories/{categoryId}", "addCourseCategory", "Put a category on a course"
)
async def add_course_category(courseId: str, categoryId: str, convex: CanUpdateCourses) -> None:
    """Tags a course with one of the client's categories. Fails with 409 `conflict` if the course already has it, and
    with 404 `not_found` if either id is unknown in this client."""
    await convex.mutation("courses:addCategory", {"courseId": courseId, "categoryId": categoryId})


@router.no_content(
    "DELETE", "/courses/{courseId}/categories/{categoryId}", "removeCourseCategory", "Take a category off a course"
)
async def remove_course_category(courseId: str, categoryId: str, convex: CanUpdateCourses) -> None:
    """Takes a category off a course; the category itself is kept. Answers 404 `not_found` if the course does not have
    that category."""
    await convex.mutation("courses:removeCategory", {"courseId": courseId, "categoryId": categoryId})
