"""The one capabilities matrix: docs generated from it, routes declare from it."""

from app.auth.capabilities import actions, roles


def test_every_action_names_only_known_roles():
    known = set(roles())
    for name, spec in actions().items():
        assert set(spec["roles"]) <= known, name
        assert spec["description"], name


def test_platform_admin_holds_every_action():
    assert all("platform_admin" in spec["roles"] for spec in actions().values())


def test_no_sponsor_role_can_read_registrants():
    for role in ("sponsor_admin", "sponsor_user"):
        assert role not in actions()["registrations.list"]["roles"]
        assert role in actions()["registrations.count"]["roles"]
