"""The units API: listing, details with history, profile changes, renames."""

from fastapi.testclient import TestClient
from vietnam_provinces import Ward

from tests.conftest import LOC_THANH, LONG_THANH


def test_province_lists_exactly_its_95_communes_and_wards(client: TestClient, auth) -> None:
    response = client.get("/api/v1/units", params={"parent": "75"}, headers=auth("viewer"))
    assert response.status_code == 200
    units = response.json()
    assert len(units) == 95 == int(response.headers["X-Total-Count"])
    official = {f"{int(w.code):05d}" for w in Ward.iter_all() if int(w.province_code) == 75}
    assert {u["code"] for u in units} == official
    assert {u["type"] for u in units} == {"commune", "ward"}
    assert all(u["parent_code"] == "75" for u in units)
    assert set(units[0]) >= {"code", "name", "type", "parent_code"}


def test_departments_are_units_under_the_province(client: TestClient, auth) -> None:
    headers = auth("viewer")
    departments = client.get(
        "/api/v1/units", params={"parent": "75", "type": "department"}, headers=headers
    ).json()
    names = {d["name"] for d in departments}
    assert {
        "Sở Tài chính",
        "Sở Y tế",
        "Sở Giáo dục và Đào tạo",
        "Sở Nội vụ",
        "Sở Xây dựng",
        "Sở Khoa học và Công nghệ",
        "Công an tỉnh",
    } <= names
    assert all(d["type"] == "department" and d["parent_code"] == "75" for d in departments)
    everything = client.get(
        "/api/v1/units", params={"parent": "75", "type": "all"}, headers=headers
    )
    assert len(everything.json()) == 95 + len(departments)


def test_pagination(client: TestClient, auth) -> None:
    headers = auth("viewer")
    first = client.get(
        "/api/v1/units", params={"parent": "75", "limit": 10}, headers=headers
    ).json()
    second = client.get(
        "/api/v1/units", params={"parent": "75", "limit": 10, "offset": 10}, headers=headers
    ).json()
    assert len(first) == len(second) == 10
    assert not {u["code"] for u in first} & {u["code"] for u in second}


def test_unit_detail_keeps_its_former_name(client: TestClient, auth) -> None:
    headers = auth("viewer")
    unit = client.get(f"/api/v1/units/{LONG_THANH}", headers=headers).json()
    assert (unit["name"], unit["type"]) == ("Phường Long Thành", "ward")
    assert [(n["name"], n["valid_from"], n["valid_to"]) for n in unit["names"]] == [
        ("Xã Long Thành", "2025-07-01", "2026-08-02"),
        ("Phường Long Thành", "2026-08-02", None),
    ]
    then = client.get(
        f"/api/v1/units/{LONG_THANH}", params={"as_of": "2026-01-15"}, headers=headers
    )
    assert (then.json()["name"], then.json()["type"]) == ("Xã Long Thành", "commune")
    before = client.get(
        f"/api/v1/units/{LONG_THANH}", params={"as_of": "2020-01-01"}, headers=headers
    )
    assert before.status_code == 422
    assert before.json()["error"]["code"] == "not_valid_then"


def test_codes_without_leading_zeros_resolve(client: TestClient, auth) -> None:
    headers = auth("viewer")
    assert client.get("/api/v1/units/1", headers=headers).json()["name"] == "Thành phố Hà Nội"
    assert client.get("/api/v1/units/70", headers=headers).json()["name"] == "Phường Hoàn Kiếm"
    assert client.get("/api/v1/units/00070", headers=headers).json()["code"] == "00070"


def test_unknown_unit_and_missing_filter(client: TestClient, auth) -> None:
    headers = auth("viewer")
    missing = client.get("/api/v1/units/99999", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "unit_not_found", "message": "No unit with code '99999'."}
    }
    no_filter = client.get("/api/v1/units", headers=headers)
    assert no_filter.status_code == 422
    assert no_filter.json()["error"]["code"] == "missing_filter"
    bad_type = client.get(
        "/api/v1/units", params={"parent": "75", "type": "district"}, headers=headers
    )
    assert bad_type.status_code == 422


def test_commune_officer_edits_own_profile(client: TestClient, auth) -> None:
    headers = auth("commune")
    response = client.patch(
        f"/api/v1/units/{LOC_THANH}",
        headers=headers,
        json={"phone": "0271 3 123 456", "address": "Ấp 1, xã Lộc Thạnh"},
    )
    assert response.status_code == 200
    assert response.json()["phone"] == "0271 3 123 456"


def test_profile_bad_input_changes_nothing(client: TestClient, auth) -> None:
    headers = auth("commune")
    client.patch(f"/api/v1/units/{LOC_THANH}", headers=headers, json={"phone": "0271 1"})
    too_long = client.patch(
        f"/api/v1/units/{LOC_THANH}",
        headers=headers,
        json={"phone": "9" * 41, "address": "new address"},
    )
    assert too_long.status_code == 422
    assert "phone" in too_long.json()["error"]["message"]
    unknown = client.patch(f"/api/v1/units/{LOC_THANH}", headers=headers, json={"name": "Xã Mới"})
    assert unknown.status_code == 422
    assert "name" in unknown.json()["error"]["message"]
    unit = client.get(f"/api/v1/units/{LOC_THANH}", headers=headers).json()
    assert (unit["phone"], unit["address"], unit["name"]) == ("0271 1", None, "Xã Lộc Thạnh")


def test_rename_needs_the_reference_permission(client: TestClient, auth) -> None:
    body = {"name": "Phường Lộc Thạnh", "type": "ward", "effective_date": "2027-01-01"}
    denied = client.post(f"/api/v1/units/{LOC_THANH}/rename", json=body, headers=auth("operator"))
    assert denied.status_code == 403
    done = client.post(f"/api/v1/units/{LOC_THANH}/rename", json=body, headers=auth("admin"))
    assert done.status_code == 200
    assert done.json()["name"] == "Phường Lộc Thạnh"
    assert [n["name"] for n in done.json()["names"]] == ["Xã Lộc Thạnh", "Phường Lộc Thạnh"]
    backwards = client.post(
        f"/api/v1/units/{LOC_THANH}/rename",
        headers=auth("admin"),
        json={"name": "Xã Khác", "effective_date": "2026-12-31"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "invalid_effective_date"


def test_units_need_a_login(client: TestClient) -> None:
    response = client.get("/api/v1/units", params={"parent": "75"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"
