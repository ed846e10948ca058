"""The work orders resource, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from conftest import AUTH, new_order


def count(client) -> int:
    total, cursor = 0, None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/workorders", params=params).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return total


def test_create_returns_201_location_and_etag(client):
    response = client.post(
        "/api/v1/workorders",
        json={"property_ref": "P-1", "category": "hvac", "title": "No heating"},
        headers=AUTH,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "open"
    assert body["priority"] == "normal"
    assert body["version"] == 1
    assert body["description"] == ""
    assert response.headers["location"].endswith(f"/api/v1/workorders/{body['id']}")
    assert response.headers["etag"] == '"1"'
    fetched = client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'


def test_reads_need_no_token_but_writes_do(client):
    order = new_order(client)
    assert client.get(f"/api/v1/workorders/{order['id']}").status_code == 200
    assert client.get("/api/v1/workorders").status_code == 200
    body = {"property_ref": "P-1", "category": "hvac", "title": "x"}
    missing = client.post("/api/v1/workorders", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["details"][0]["field"] == "header.authorization"
    wrong = client.post("/api/v1/workorders", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "the bearer token is not valid"
    basic = client.post("/api/v1/workorders", json=body, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    patch = client.patch(f"/api/v1/workorders/{order['id']}", json={"title": "y"})
    assert patch.status_code == 401
    move = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to": "done"})
    assert move.status_code == 401
    assert count(client) == 1


def test_unknown_and_malformed_ids(client):
    missing = client.get(f"/api/v1/workorders/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    for bad in ("1", "not-a-uuid", "' OR 1=1 --", "%00"):
        response = client.get(f"/api/v1/workorders/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"][0]["field"] == "path.workorder_id"


def test_list_filters(client):
    new_order(client, category="plumbing", priority="low")
    new_order(client, category="electrical", priority="urgent")
    scheduled = new_order(client, category="electrical", priority="low")
    client.post(
        f"/api/v1/workorders/{scheduled['id']}/transitions", json={"to": "scheduled"}, headers=AUTH
    )

    def ids(**params):
        page = client.get("/api/v1/workorders", params=params)
        assert page.status_code == 200, page.text
        return [item["category"] + "/" + item["priority"] for item in page.json()["items"]]

    assert sorted(ids(category="electrical")) == ["electrical/low", "electrical/urgent"]
    assert ids(priority="urgent") == ["electrical/urgent"]
    assert ids(status="scheduled") == ["electrical/low"]
    assert ids(status="done") == []
    assert len(ids(category="electrical", priority="low", status="scheduled")) == 1


def test_pagination_walks_every_item_once_newest_first(client):
    created = [new_order(client, title=f"order {n}")["id"] for n in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/workorders", params=params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(created)
    assert len(set(seen)) == 7
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"status": "closed"}, "query.status"),
        ({"category": "roofing"}, "query.category"),
        ({"priority": "whenever"}, "query.priority"),
        ({"cursor": "not-a-cursor!"}, "query.cursor"),
        ({"cursor": "' OR 1=1 --"}, "query.cursor"),
    ],
)
def test_list_rejects_bad_query(client, params, field):
    response = client.get("/api/v1/workorders", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"category": "plumbing", "title": "t"}, "property_ref", "Field required"),
        ({"property_ref": "P", "category": "roofing", "title": "t"}, "category", "Input should"),
        ({"property_ref": "P", "category": "hvac", "priority": 3, "title": "t"}, "priority", ""),
        ({"property_ref": "P", "category": "hvac", "title": ""}, "title", "at least 1"),
        ({"property_ref": "P", "category": "hvac", "title": "x" * 201}, "title", "at most 200"),
        ({"property_ref": "P", "category": "hvac", "title": 42}, "title", "valid string"),
        ({"property_ref": "P", "category": "hvac", "title": "t", "status": "done"}, "status", ""),
        ({"property_ref": "P", "category": "hvac", "title": "t", "owner": "x"}, "owner", "unknown"),
        ({"property_ref": "P", "category": "hvac", "title": "a\x00b"}, "title", "pattern"),
        ({"property_ref": "P", "category": "hvac", "title": "a\nb"}, "title", "pattern"),
        ({"property_ref": "P", "category": "hvac", "title": " lead"}, "title", "pattern"),
        (
            {"property_ref": "P", "category": "hvac", "title": "t", "description": "a\x00"},
            "description",
            "pattern",
        ),
        ({"property_ref": "P;DROP", "category": "hvac", "title": "t"}, "property_ref", "pattern"),
        (
            {"property_ref": "P", "category": "hvac", "title": "t", "description": "d" * 5001},
            "description",
            "at most 5000",
        ),
    ],
)
def test_create_rejects_bad_bodies_and_writes_nothing(client, body, field, problem):
    response = client.post("/api/v1/workorders", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert any(d["field"] == field and problem in d["problem"] for d in details), details
    assert count(client) == 0


def test_lone_surrogates_and_malformed_json_are_rejected(client):
    raw = b'{"property_ref": "P", "category": "hvac", "title": "\\ud800"}'
    response = client.post(
        "/api/v1/workorders",
        content=raw,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "title"
    for broken in (b"{", b"[1,2", b"nul", b'{"title": }'):
        response = client.post(
            "/api/v1/workorders",
            content=broken,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert "malformed JSON" in response.json()["error"]["details"][0]["problem"]
    not_object = client.post("/api/v1/workorders", json=[1, 2], headers=AUTH)
    assert not_object.status_code == 422
    assert count(client) == 0


def test_unicode_and_sql_looking_text_is_stored_verbatim(client):
    title = "Robert'); DROP TABLE work_orders;-- ☃ 水漏れ"
    description = "1' OR '1'='1\n\t\u202egnp.exe 🚰"
    order = new_order(client, title=title, description=description)
    fetched = client.get(f"/api/v1/workorders/{order['id']}").json()
    assert fetched["title"] == title
    assert fetched["description"] == description
    assert count(client) == 1


def test_oversized_bodies_get_413(client):
    big = {"property_ref": "P", "category": "hvac", "title": "t", "description": "x" * 70_000}
    response = client.post("/api/v1/workorders", json=big, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():
        yield b'{"property_ref": "P", "category": "hvac", "title": "t", "description": "'
        for _ in range(20):
            yield b"y" * 4096
        yield b'"}'

    streamed = client.post(
        "/api/v1/workorders",
        content=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert count(client) == 0


def test_patch_needs_if_match_and_refuses_stale_versions(client):
    order = new_order(client)
    url = f"/api/v1/workorders/{order['id']}"
    missing = client.patch(url, json={"title": "New title"}, headers=AUTH)
    assert missing.status_code == 428
    ok = client.patch(url, json={"title": "New title"}, headers={**AUTH, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["title"] == "New title"
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'
    assert ok.json()["updated_at"] >= order["updated_at"]
    stale = client.patch(url, json={"title": "Lost update"}, headers={**AUTH, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"2"'
    assert "GET it again" in stale.json()["error"]["message"]
    garbage = client.patch(url, json={"title": "x"}, headers={**AUTH, "If-Match": "banana"})
    assert garbage.status_code == 412
    weak = client.patch(url, json={"priority": "urgent"}, headers={**AUTH, "If-Match": 'W/"2"'})
    assert weak.status_code == 200
    star = client.patch(url, json={"category": "general"}, headers={**AUTH, "If-Match": "*"})
    assert star.status_code == 200
    assert client.get(url).json()["title"] == "New title"
    assert client.get(url).json()["version"] == 4


def test_patch_rejects_nulls_status_and_unknown_fields(client):
    order = new_order(client)
    url = f"/api/v1/workorders/{order['id']}"
    headers = {**AUTH, "If-Match": '"1"'}
    for body, field in (
        ({"title": None}, "title"),
        ({"status": "done"}, "status"),
        ({"colour": "red"}, "colour"),
        ({"priority": "asap"}, "priority"),
    ):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field
    unchanged = client.get(url).json()
    assert unchanged["version"] == 1
    empty = client.patch(url, json={}, headers=headers)
    assert empty.status_code == 200
    assert empty.json()["version"] == 1
    missing = client.patch(f"/api/v1/workorders/{uuid.uuid4()}", json={}, headers=headers)
    assert missing.status_code == 404


def test_status_machine(client):
    order = new_order(client)
    url = f"/api/v1/workorders/{order['id']}/transitions"
    for target in ("scheduled", "in_progress", "done"):
        response = client.post(url, json={"to": target}, headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
    final = client.post(url, json={"to": "cancelled"}, headers=AUTH)
    assert final.status_code == 409
    assert final.json()["error"]["message"] == (
        "cannot move from done to cancelled; allowed from done: none (final status)"
    )


@pytest.mark.parametrize("start", [[], ["scheduled"], ["scheduled", "in_progress"]])
def test_cancel_from_any_active_status(client, start):
    order = new_order(client)
    url = f"/api/v1/workorders/{order['id']}/transitions"
    for target in start:
        assert client.post(url, json={"to": target}, headers=AUTH).status_code == 200
    response = client.post(url, json={"to": "cancelled"}, headers=AUTH)
    assert response.status_code == 200
    again = client.post(url, json={"to": "open"}, headers=AUTH)
    assert again.status_code == 409


def test_invalid_transitions_name_the_allowed_ones(client):
    order = new_order(client)
    url = f"/api/v1/workorders/{order['id']}/transitions"
    skip = client.post(url, json={"to": "done"}, headers=AUTH)
    assert skip.status_code == 409
    message = skip.json()["error"]["message"]
    assert message == "cannot move from open to done; allowed from open: scheduled, cancelled"
    same = client.post(url, json={"to": "open"}, headers=AUTH)
    assert same.status_code == 409
    unknown = client.post(url, json={"to": "archived"}, headers=AUTH)
    assert unknown.status_code == 422
    extra = client.post(url, json={"to": "scheduled", "why": "x"}, headers=AUTH)
    assert extra.status_code == 422
    assert client.get(f"/api/v1/workorders/{order['id']}").json()["status"] == "open"
    stale = client.post(url, json={"to": "scheduled"}, headers={**AUTH, "If-Match": '"7"'})
    assert stale.status_code == 412
    fresh = client.post(url, json={"to": "scheduled"}, headers={**AUTH, "If-Match": '"1"'})
    assert fresh.status_code == 200
    missing = client.post(
        f"/api/v1/workorders/{uuid.uuid4()}/transitions", json={"to": "done"}, headers=AUTH
    )
    assert missing.status_code == 404


def test_body_that_is_not_utf8_gets_400(client):
    response = client.post(
        "/api/v1/workorders",
        content=b'{"title": "\xff\xfe"}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_body"
    assert error["details"] == [{"field": "body", "problem": "not UTF-8 encoded JSON"}]
    assert count(client) == 0
