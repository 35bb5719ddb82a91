"""The public side over HTTP: the form files a report with a photo (no login), a file that is not
a picture is refused with the form kept, the tracking page shows no personal data, the holder of
the link rates it once resolved, and reopens it."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

Auth = Callable[[str], dict[str, str]]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buffer, "PNG")
    return buffer.getvalue()


FORM = {"category": "", "description": "Đèn đường trước chợ Lộc Thạnh tắt ba đêm nay.",
        "address": "ấp 3, xã Lộc Thạnh", "phone": "0912 345 678", "name": "Chị Hoa"}  # fmt: skip


def test_the_public_form_files_and_tracks_a_report(client: TestClient, auth: Auth) -> None:
    page = client.get("/phan-anh")
    assert page.status_code == 200 and "Gửi phản ánh hiện trường" in page.text
    sent = client.post("/phan-anh", data=FORM, files=[("photos", ("den.png", png(), "image/png"))],
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    code = location.split("/phan-anh/")[1].split("?")[0]
    report = client.get(f"/api/v1/citizen/reports/{code}", headers=auth("operator")).json()
    assert report["category"] == "lighting"  # suggested from the text
    assert report["channel"] == "web" and report["contact"]["phone"] == "0912 345 678"
    tracking = client.get(location)
    assert code in tracking.text and "Đã tiếp nhận" in tracking.text
    assert "0912" not in tracking.text and "Chị Hoa" not in tracking.text
    assert "ấp 3" not in tracking.text  # the address typed stays private
    assert "/phan-anh/anh/" not in tracking.text  # the photo waits for review
    photo = report["photos"][0]
    assert (photo["approved"], photo["width"], photo["height"]) == (False, 64, 48)
    assert client.get(photo["url"], headers=auth("commune2")).status_code == 403
    assert client.get(photo["url"], headers=auth("commune")).content == png()
    assert client.get(f"/phan-anh/anh/{photo['id']}").status_code == 404
    approved = client.post(f"/api/v1/citizen/reports/{code}/photos/{photo['id']}/approve",
                           headers=auth("commune"))  # fmt: skip
    assert approved.json()["photos"][0]["approved"] is True
    assert client.get(f"/phan-anh/anh/{photo['id']}").content == png()
    assert f"/phan-anh/anh/{photo['id']}" in client.get(location).text

    client.post(f"/api/v1/citizen/reports/{code}/accept", json={}, headers=auth("operator"))
    client.post(f"/api/v1/citizen/reports/{code}/resolve",
                json={"note": "Đã thay bóng đèn."}, headers=auth("operator"))  # fmt: skip
    token = location.split("t=")[1]
    stranger = client.post(f"/phan-anh/{code}/danh-gia", data={"t": "x" * 20, "rating": "1"})
    assert stranger.status_code == 403
    rated = client.post(f"/phan-anh/{code}/danh-gia", data={"t": token, "rating": "4"})
    assert rated.status_code == 200 and "4/5" in rated.text
    reopened = client.post(f"/phan-anh/{code}/mo-lai",
                           data={"t": token, "reason": "Đèn lại tắt tối qua."})  # fmt: skip
    assert reopened.status_code == 200 and "Phản ánh lại" in reopened.text
    again = client.get(f"/api/v1/citizen/reports/{code}", headers=auth("operator")).json()
    assert again["status"] == "reopened" and again["rating"] == 4


def test_a_file_that_is_not_a_photo_keeps_the_form(client: TestClient) -> None:
    fake = ("anh.jpg", b"MZ\x90\x00 not a picture", "image/jpeg")
    refused = client.post("/phan-anh", data=FORM, files=[("photos", fake)])
    assert refused.status_code == 422
    assert "anh.jpg is not a photo" in refused.text and FORM["description"] in refused.text
    no_contact = client.post("/phan-anh", data={**FORM, "phone": ""})
    assert no_contact.status_code == 422 and "phone number or an e-mail" in no_contact.text


def test_the_public_list_and_map_hide_personal_data(client: TestClient, auth: Auth) -> None:
    pinned = {**FORM, "lat": "10.9587654", "long": "106.8412345", "category": "lighting"}
    sent = client.post("/phan-anh", data=pinned, follow_redirects=False)
    code = sent.headers["location"].split("/phan-anh/")[1].split("?")[0]
    refused = client.post("/phan-anh", data=FORM, follow_redirects=False).headers["location"]
    refused_code = refused.split("/phan-anh/")[1].split("?")[0]
    client.post(f"/api/v1/citizen/reports/{refused_code}/refuse",
                json={"note": "Không thuộc thẩm quyền."}, headers=auth("operator"))  # fmt: skip
    listed = client.get("/phan-anh/danh-sach")
    assert listed.status_code == 200 and code in listed.text and refused_code not in listed.text
    assert "0912 345 678" not in listed.text and "Chị Hoa" not in listed.text
    points = client.get("/phan-anh/danh-sach.json?status=open").json()["features"]
    mine = next(f for f in points if f["properties"]["code"] == code)
    assert mine["geometry"]["coordinates"] == [
        106.841,
        10.959,
    ]  # rounded: the street, not the house
    assert set(mine["properties"]) == {"code", "category", "status"}


def test_a_categorys_own_question_on_the_form(client: TestClient, auth: Auth) -> None:
    page = client.get("/phan-anh").text
    assert 'data-category="road_damage"' in page and 'name="attribute[hazard]"' in page
    chosen = {**FORM, "category": "road_damage", "attribute[hazard]": "high"}
    sent = client.post("/phan-anh", data=chosen, follow_redirects=False)
    code = sent.headers["location"].split("/phan-anh/")[1].split("?")[0]
    report = client.get(f"/api/v1/citizen/reports/{code}", headers=auth("operator")).json()
    assert report["attributes"] == {"hazard": "high"}
    wrong = client.post("/phan-anh", data={**chosen, "attribute[hazard]": "very"})
    assert wrong.status_code == 422 and "is not one of high, low" in wrong.text
