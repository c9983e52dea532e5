"""Course enrollments: request and response bodies."""

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.http.bodies import RequestBody, ResponseBody

EnrollmentStatus = TypeAliasType("EnrollmentStatus", Literal["active", "completed", "withdrawn", "removed"])


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
