"""Operation summaries say what an operation does, not who may call it.

Who may call an operation is the capabilities matrix's to say (convex/capabilities.json): the
OpenAPI document adds "**Requires capability** ..." to the description of every operation a
capability guards (app/openapi/document.py). A summary that names a role as well, "(staff)" or
"(client_admin)", is a second copy that the matrix does not generate, and goes stale when the
matrix changes.
"""

import re

import pytest

from app.facts import MATRIX
from app.main import create_app

# The matrix's roles, and the plain-English names summaries gave them.
ROLE_WORDS = {*MATRIX["roles"], "staff", "admin", "admins", "administrator", "administrators", "sponsors"}
# Words that are roles and resources of the API alike ("Create a member", "Events a sponsor
# backs"): they name a role only in a parenthesised remark, the form a note of who may call took
# ("(members may only close their own)").
RESOURCE_WORDS = {"member", "members", "sponsor", "sponsors"}

# Operations whose summary names a role as part of what the operation does, and why.
ROLE_IS_WHAT_IT_DOES = {
    "assignTicket": "the assignee must be a staff user: the role is the one the operation assigns to, not the caller's",
}


def roles_named(summary: str) -> list[str]:
    """The role names a summary uses: anywhere, or, for those that also name a resource, in a remark."""
    words = set(re.findall(r"\w+", summary.lower()))
    remarks = set(re.findall(r"\w+", " ".join(re.findall(r"\(([^)]*)\)", summary.lower()))))
    return sorted(words & (ROLE_WORDS - RESOURCE_WORDS) | remarks & (ROLE_WORDS | RESOURCE_WORDS))


def guarded_operations() -> dict[str, str]:
    """operationId -> summary of every operation the capabilities matrix guards."""
    return {
        operation["operationId"]: operation["summary"]
        for item in create_app().openapi()["paths"].values()
        for operation in item.values()
        if operation.get("x-capabilities")
    }


OPERATIONS = guarded_operations()


def test_no_summary_says_which_roles_may_call():
    offending = {
        operation_id: (summary, roles_named(summary))
        for operation_id, summary in OPERATIONS.items()
        if roles_named(summary) and operation_id not in ROLE_IS_WHAT_IT_DOES
    }
    assert not offending, (
        f"say what the operation does; the description's **Requires capability** says who may call it: {offending}"
    )


def test_each_exception_is_an_operation_whose_summary_names_a_role():
    for operation_id in ROLE_IS_WHAT_IT_DOES:
        assert roles_named(OPERATIONS[operation_id]), f"{operation_id} names no role now: drop its exception"


@pytest.mark.parametrize(
    ("summary", "named"),
    [
        ("Create a member", []),
        ("Events a sponsor backs", []),
        ("Enrol yourself or a member in a course", []),
        ("List, search and filter members (staff)", ["staff"]),
        ("Staff list registrations", ["staff"]),
        ("Withdraw (your own; any as client_admin)", ["client_admin"]),
        ("Edit a sponsor (client_admin any; sponsor_admin its own)", ["client_admin", "sponsor_admin"]),
        ("Move a ticket through its states (members may only close their own)", ["members"]),
        ("End any user's session (platform admins)", ["admins"]),
    ],
)
def test_role_names_are_found(summary, named):
    assert roles_named(summary) == named
