"""returnTo: only a path of this site, so sign-in is never an open redirect."""

import pytest

from app.sessions.return_to import MAX_RETURN_TO_CHARS, safe_return_to


@pytest.mark.parametrize(
    "path", ["/", "/events", "/events/123?tab=places#top", "/tickets/new?subject=a%20b", "/a/b/c.html", "/%2F%2Fx"]
)
def test_a_path_of_this_site_is_accepted_as_it_is(path):
    assert safe_return_to(path) == path


@pytest.mark.parametrize(
    "value",
    [
        "",
        "events",  # relative
        "https://evil.example/",  # absolute URL
        "//evil.example/",  # scheme-relative: another host
        "///evil.example/",
        "/\\evil.example/",  # browsers read a backslash as a slash
        "\\\\evil.example",
        "/a//b",
        "/\t/evil.example",  # browsers drop tabs and newlines: "//evil.example"
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=1",  # header injection
        "/ evil",
        "/\x7f",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/" + "a" * MAX_RETURN_TO_CHARS,
    ],
)
def test_anything_else_is_refused(value):
    assert safe_return_to(value) is None


def test_the_longest_path_accepted_is_max_return_to_chars():
    longest = "/" + "a" * (MAX_RETURN_TO_CHARS - 1)
    assert safe_return_to(longest) == longest


def test_printable_punctuation_is_kept():
    assert safe_return_to("/search?q=!&x=~") == "/search?q=!&x=~"
