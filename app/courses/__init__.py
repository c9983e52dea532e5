"""Courses (convex/courses.ts): routes, schemas, and what the API document says of them."""

from app.courses import routes, schemas
from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"courses": "Courses a client runs: drafts, publication, CPD points, categories."},
    conflicts=("conflict", "invalid_transition", "already_enrolled"),
    ids={"courseId": IdParameter("listCourses", ("Course",)), "categoryId": IdParameter(None, ("CourseCategory",))},
    examples=Examples(
        parameters=demo.acting_on(
            courseId={
                "COURSE_FIRE_SAFETY": (
                    "getCourse",
                    "updateCourse",
                    "listCourseCategories",
                    "addCourseCategory",
                    "removeCourseCategory",
                ),
                "COURSE_LEGACY_ARCHIVED": ("deleteCourse",),
                "COURSE_NEGOTIATION_DRAFT": ("publishCourse",),
                "COURSE_DATA_PROTECTION": ("archiveCourse",),
            },
            categoryId={
                "CATEGORY_LEADERSHIP": ("addCourseCategory",),
                "CATEGORY_HEALTH_SAFETY": ("removeCourseCategory",),
            },
        ),
        bodies={
            "createCourse": {
                "title": "First Aid at Work",
                "description": "Recognise an emergency and act on it until help arrives.",
                "cpdPoints": 4,
                "startAt": 1798761600000,
                "categoryIds": [demo.document("CATEGORY_HEALTH_SAFETY")],
            },
            "updateCourse": {
                "description": "Fire safety for every workplace, with a practical session.",
                "cpdPoints": 6,
            },
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
