"""Courses (convex/courses.ts): routes, schemas, and what the API document says of them."""

from app.courses import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples
from app.openapi.demo import (
    CATEGORY_HEALTH_SAFETY,
    CATEGORY_LEADERSHIP,
    COURSE_DATA_PROTECTION,
    COURSE_FIRE_SAFETY,
    COURSE_LEGACY_ARCHIVED,
    COURSE_NEGOTIATION_DRAFT,
)

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"courses": "Courses a client runs: drafts, publication, CPD points, categories."},
    conflicts=(*STATE_CONFLICTS, "already_enrolled"),
    resources={"Course": "courseId", "CourseCategory": "categoryId"},
    listed_by={"courseId": "listCourses"},
    examples=Examples(
        parameters={
            "getCourse": {"courseId": COURSE_FIRE_SAFETY},
            "updateCourse": {"courseId": COURSE_FIRE_SAFETY},
            "deleteCourse": {"courseId": COURSE_LEGACY_ARCHIVED},
            "publishCourse": {"courseId": COURSE_NEGOTIATION_DRAFT},
            "archiveCourse": {"courseId": COURSE_DATA_PROTECTION},
            "listCourseCategories": {"courseId": COURSE_FIRE_SAFETY},
            "addCourseCategory": {"courseId": COURSE_FIRE_SAFETY, "categoryId": CATEGORY_LEADERSHIP},
            "removeCourseCategory": {"courseId": COURSE_FIRE_SAFETY, "categoryId": CATEGORY_HEALTH_SAFETY},
        },
        bodies={
            "createCourse": {
                "title": "First Aid at Work",
                "description": "Recognise an emergency and act on it until help arrives.",
                "cpdPoints": 4,
                "startAt": 1798761600000,
                "categoryIds": [CATEGORY_HEALTH_SAFETY],
            },
            "updateCourse": {
                "description": "Fire safety for every workplace, with a practical session.",
                "cpdPoints": 6,
            },
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
