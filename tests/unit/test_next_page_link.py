"""The next page's `Link` (app/http/pagination.py): the same path and the caller's own filters
and limit, as written, with the new cursor in place of any old one."""

from app.http.pagination import next_page_url


def scope(path: str, query: bytes) -> dict:
    return {"path": path, "query_string": query}


def test_the_link_keeps_the_filters_and_limit_as_written_and_adds_the_cursor():
    url = next_page_url(scope("/v1/clients/acme/members", b"status=active&limit=5&search=mia%20m"), "c2")
    assert url == "/v1/clients/acme/members?status=active&limit=5&search=mia%20m&cursor=c2"


def test_the_old_cursor_gives_way_to_the_new_one_however_its_name_is_written():
    for query in (b"limit=5&cursor=c1", b"cursor=c1&limit=5", b"%63ursor=c1&limit=5", b"limit=5&cursor="):
        assert (
            next_page_url(scope("/v1/clients/acme/events", query), "c2") == "/v1/clients/acme/events?limit=5&cursor=c2"
        )


def test_a_first_page_without_a_query_gets_only_the_cursor():
    assert next_page_url(scope("/v1/clients/acme/events", b""), "c2") == "/v1/clients/acme/events?cursor=c2"


def test_a_path_with_characters_a_url_reserves_is_escaped_as_the_request_url_is():
    assert (
        next_page_url(scope("/v1/clients/acme/tickets/a?b#c", b""), "c2")
        == "/v1/clients/acme/tickets/a%3Fb%23c?cursor=c2"
    )


def test_what_a_uri_may_not_hold_is_escaped_so_the_link_stays_one_uri():
    url = next_page_url(
        scope("/v1/clients/acme/members", "search=a>b<c d&limit=2&email=\u00e9".encode("latin-1")), "c2"
    )
    assert url == "/v1/clients/acme/members?search=a%3Eb%3Cc%20d&limit=2&email=%E9&cursor=c2"
