"""Finding units as people type them: no diacritics, no prefix, former names, codes."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import LOC_THANH, LONG_THANH

LOC_THANH_WITHOUT_MARKS = "25294"  # Xã Lộc Thành: "loc thanh" folds to the same words


@pytest.mark.parametrize(
    "query", ["loc thanh", "Lộc Thạnh", "xa Loc Thanh", "XÃ LỘC THẠNH", " loc  thanh "]
)
def test_finds_loc_thanh_however_typed(client: TestClient, auth, query: str) -> None:
    response = client.get("/api/v1/units", params={"q": query}, headers=auth("viewer"))
    assert response.status_code == 200
    codes = [unit["code"] for unit in response.json()]
    assert LOC_THANH in codes[:2]
    assert set(codes[:2]) == {LOC_THANH, LOC_THANH_WITHOUT_MARKS}


def test_diacritics_typed_rank_the_exact_spelling_first(client: TestClient, auth) -> None:
    response = client.get("/api/v1/units", params={"q": "Lộc Thạnh"}, headers=auth("viewer"))
    first = response.json()[0]
    assert (first["code"], first["name"], first["parent_code"]) == (LOC_THANH, "Xã Lộc Thạnh", "75")
    response = client.get("/api/v1/units", params={"q": "Lộc Thành"}, headers=auth("viewer"))
    assert response.json()[0]["code"] == LOC_THANH_WITHOUT_MARKS


def test_prefix_in_query_prefers_that_type(client: TestClient, auth) -> None:
    headers = auth("viewer")
    # Xã Tân Phú exists in other provinces; Đồng Nai's Tân Phú has been a phường since 2026.
    as_ward = client.get("/api/v1/units", params={"q": "phuong tan phu"}, headers=headers).json()
    assert (as_ward[0]["type"], as_ward[0]["parent_code"]) == ("ward", "75")
    other_provinces = client.get(
        "/api/v1/units", params={"q": "xa tan phu", "type": "commune"}, headers=headers
    ).json()
    assert other_provinces and all(u["type"] == "commune" for u in other_provinces)


def test_a_former_name_typed_in_full_finds_the_renamed_unit_first(client: TestClient, auth) -> None:
    # Phường Lộc Ninh (Đồng Nai) was Xã Lộc Ninh until 2026; another province has a Xã Lộc Ninh.
    # Someone at the Đồng Nai IOC typing the old name means the local unit.
    found = client.get("/api/v1/units", params={"q": "xa loc ninh"}, headers=auth("viewer")).json()
    assert (found[0]["name"], found[0]["matched_name"]) == ("Phường Lộc Ninh", "Xã Lộc Ninh")
    assert any(u["name"] == "Xã Lộc Ninh" and u["parent_code"] != "75" for u in found)


def test_former_names_are_found_and_reported(client: TestClient, auth) -> None:
    response = client.get(
        "/api/v1/units", params={"q": "Xã Long Thành", "within": "75"}, headers=auth("viewer")
    )
    match = next(unit for unit in response.json() if unit["code"] == LONG_THANH)
    assert match["name"] == "Phường Long Thành"
    assert match["matched_name"] == "Xã Long Thành"


def test_code_and_department_search(client: TestClient, auth) -> None:
    headers = auth("viewer")
    assert (
        client.get("/api/v1/units", params={"q": "SYT"}, headers=headers).json()[0]["name"]
        == "Sở Y tế"
    )
    assert (
        client.get("/api/v1/units", params={"q": "y te"}, headers=headers).json()[0]["code"]
        == "SYT"
    )
    assert (
        client.get("/api/v1/units", params={"q": LOC_THANH}, headers=headers).json()[0]["code"]
        == LOC_THANH
    )


def test_operating_province_ranks_before_namesakes_elsewhere(client: TestClient, auth) -> None:
    # "Tân Phú" is a common name; the Đồng Nai one comes first.
    response = client.get("/api/v1/units", params={"q": "tan phu"}, headers=auth("viewer"))
    assert response.json()[0]["parent_code"] == "75"
    assert int(response.headers["X-Total-Count"]) > 1


@pytest.mark.parametrize("query", ["%", "_", "\\", "'; drop table units; --"])
def test_wildcards_and_quotes_are_just_text(client: TestClient, auth, query: str) -> None:
    response = client.get("/api/v1/units", params={"q": query}, headers=auth("viewer"))
    assert response.status_code == 200
    assert response.json() == []


def test_over_long_query_is_rejected_naming_the_parameter(client: TestClient, auth) -> None:
    response = client.get("/api/v1/units", params={"q": "x" * 201}, headers=auth("viewer"))
    assert response.status_code == 422
    assert "q" in response.json()["error"]["message"]
