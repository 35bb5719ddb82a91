"""Boundary import: joins by code then by name, renames, bad files, and the boundary API."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.importer import ImportOptions, import_boundaries
from dieuhanh.gis.models import Boundary, BoundaryImport
from dieuhanh.units.models import Unit, UnitAlias
from dieuhanh.units.service import get_unit_detail
from tests.conftest import LOC_THANH, LONG_THANH

RENAMED_TO_WARD = {
    "25270",
    "25357",
    "25363",
    "26116",
    "26170",
    "26248",
    "26326",
    "26368",
    "26425",
    "26485",
}
# Codes in the file that differ from the official list, and the official unit each is.
FILE_CODES = {"25252": "25264", "25333": "25336", "25450": "25453", "26332": "26329"}


def demo_file() -> dict[str, Any]:
    data = (
        resources.files("dieuhanh.gis").joinpath("data/dong_nai_communes.geojson.gz").read_bytes()
    )
    return json.loads(gzip.decompress(data))


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str | None, name: str | None, geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, "fullName": name}, "geometry": geometry}


def run_import(runtime: Runtime, data: bytes, filename: str = "test.geojson", **options: Any):
    with runtime.sessions() as session:
        report = import_boundaries(
            session,
            data,
            filename,
            ImportOptions(province_code="75", today=runtime.today(), **options),
        )
        session.commit()
    return report


def snapshot(runtime: Runtime) -> tuple[Any, ...]:
    """What a failed import must leave untouched."""
    with runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Boundary)),
            tuple(session.scalars(select(Boundary.geometry_hash).order_by(Boundary.id))),
            tuple(session.scalars(select(Unit.name).order_by(Unit.id))),
            session.scalar(select(func.count()).select_from(BoundaryImport)),
        )


def test_all_95_boundaries_join(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        province = session.scalar(select(Unit).where(Unit.code == "75"))
        joined = session.scalar(
            select(func.count())
            .select_from(Boundary)
            .join(Unit, Unit.id == Boundary.unit_id)
            .where(Unit.parent_id == province.id, Boundary.valid_to.is_(None))
        )
        record = session.scalars(select(BoundaryImport)).one()
    assert joined == 95
    report = record.report
    assert report["matched_count"] == 95 and report["unmatched"] == []
    assert report["units_without_boundary"] == []
    by_name = {m["code_in_file"]: m["unit_code"] for m in report["matched"] if m["by"] == "name"}
    assert by_name == FILE_CODES


def test_differing_codes_are_kept_as_aliases(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        aliases = {a.code: a.unit.code for a in session.scalars(select(UnitAlias))}
    assert aliases == FILE_CODES


def test_the_ten_renamed_units_keep_their_former_names(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        for code in RENAMED_TO_WARD:
            unit = get_unit_detail(session, code)
            assert unit.type == "ward" and unit.name.startswith("Phường ")
            assert [(n.type, n.valid_to is None) for n in unit.names] == [
                ("commune", False),
                ("ward", True),
            ]
            assert unit.names[0].name == "Xã " + unit.name.removeprefix("Phường ")


def test_spelling_variants_are_not_renames(runtime: Runtime) -> None:
    # The file writes "Biên Hoà", the official list "Biên Hòa": the same name.
    with runtime.sessions() as session:
        report = session.scalars(select(BoundaryImport)).one().report
        unit = get_unit_detail(session, "26068")
    assert unit.name == "Phường Biên Hòa" and len(unit.names) == 1
    assert {v["unit_code"] for v in report["spelling_variants"]} >= {"26068"}
    assert {d["unit_code"] for d in report["name_differences"]} == RENAMED_TO_WARD


def test_reimport_is_idempotent(runtime: Runtime) -> None:
    before = snapshot(runtime)
    report = run_import(runtime, encode(demo_file()), apply_names=True)
    after = snapshot(runtime)
    assert report.replaced == 0 and report.unchanged == 95
    assert report.name_differences == []  # already applied
    assert before[:3] == after[:3]


def test_dry_run_writes_nothing(runtime: Runtime) -> None:
    document = demo_file()
    document["features"] = document["features"][:3]
    before = snapshot(runtime)
    report = run_import(runtime, encode(document), dry_run=True)
    assert len(report.matched) == 3
    assert snapshot(runtime) == before


def test_partial_file_imports_what_joins_and_reports_the_rest(runtime: Runtime) -> None:
    document = demo_file()
    document["features"] = [
        *document["features"][:5],
        feature("99998", "Xã Không Có", square(107.0, 11.0)),
        feature(None, None, square(107.1, 11.0)),
        {
            "type": "Feature",
            "properties": {"code": "99997"},
            "geometry": {"type": "Point", "coordinates": [1, 2]},
        },
    ]
    report = run_import(runtime, encode(document))
    assert len(report.matched) == 5
    reasons = {u["feature"]: u["reason"] for u in report.unmatched}
    assert reasons[6] == "no unit of Đồng Nai with code 99998 or name Xã Không Có"
    assert "code or a name" in reasons[7]
    assert "Polygon or MultiPolygon" in reasons[8]
    assert len(report.units_without_boundary) == 90


def test_a_feature_joined_twice_is_reported(runtime: Runtime) -> None:
    document = demo_file()
    document["features"].append(document["features"][0])
    report = run_import(runtime, encode(document))
    assert len(report.matched) == 95
    assert "already matched by feature 1" in report.unmatched[0]["reason"]


def test_invalid_geometry_is_repaired_and_reported(runtime: Runtime) -> None:
    document = demo_file()
    first = document["features"][0]
    (min_lon, min_lat, max_lon, max_lat) = _bounds(first["geometry"])
    bow_tie = [
        [min_lon, min_lat],
        [max_lon, max_lat],
        [max_lon, min_lat],
        [min_lon, max_lat],
        [min_lon, min_lat],
    ]
    first["geometry"] = {"type": "Polygon", "coordinates": [bow_tie]}
    report = run_import(runtime, encode(document))
    assert report.repaired and "Self-intersection" in report.repaired[0]["problem"]
    assert len(report.matched) == 95


def _bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    points = [p for polygon in geometry["coordinates"] for ring in polygon for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def test_wrong_province_is_refused_whole(runtime: Runtime) -> None:
    # Communes of Hồ Chí Minh City (province 79) with made-up squares.
    hcmc = [
        ("26734", "Phường Sài Gòn"),
        ("26737", "Phường Tân Định"),
        ("26743", "Phường Bến Thành"),
    ]
    document = {
        "type": "FeatureCollection",
        "features": [
            feature(code, name, square(106.7 + i * 0.01, 10.77))
            for i, (code, name) in enumerate(hcmc)
        ],
    }
    before = snapshot(runtime)
    with pytest.raises(InvalidInput) as caught:
        run_import(runtime, encode(document), filename="hcm.geojson")
    assert caught.value.code == "wrong_province"
    assert "Đồng Nai" in caught.value.message and "Hồ Chí Minh" in caught.value.message
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b'{"type": "FeatureCollection", "features": [', "malformed_geojson", "line 1, column"),
        (b'{"type": "Feature", "geometry": null}', "malformed_geojson", "FeatureCollection"),
        (b"[1, 2, 3]", "malformed_geojson", "FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "malformed_geojson", "no features"),
        (b"\xff\xfe\x00garbage", "bad_encoding", "UTF-8"),
        (b"\x1f\x8b\x08\x00broken", "malformed_file", "gzip"),
        (
            encode(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3405"}},
                    "features": [feature("25280", "Xã Lộc Thạnh", square(500000, 1200000, 100))],
                }
            ),
            "unsupported_crs",
            "EPSG::3405",
        ),
        (
            encode(
                {
                    "type": "FeatureCollection",
                    "features": [feature("25280", "Xã Lộc Thạnh", square(500000, 1200000, 100))],
                }
            ),
            "unsupported_crs",
            "projected",
        ),
    ],
)
def test_malformed_files_are_refused_and_change_nothing(
    runtime: Runtime, data: bytes, code: str, words: str
) -> None:
    before = snapshot(runtime)
    with pytest.raises(InvalidInput) as caught:
        run_import(runtime, data, filename="bad.geojson")
    assert caught.value.code == code
    assert words in caught.value.message and "bad.geojson" in caught.value.message
    assert snapshot(runtime) == before


def test_renames_need_an_effective_date(runtime: Runtime) -> None:
    document = demo_file()
    target = next(f for f in document["features"] if f["properties"]["code"] == LOC_THANH)
    target["properties"]["fullName"] = "Phường Lộc Thạnh"
    before = snapshot(runtime)
    with pytest.raises(InvalidInput) as caught:
        run_import(runtime, encode(document), apply_names=True)
    assert caught.value.code == "effective_date_required"
    assert snapshot(runtime) == before
    report = run_import(runtime, encode(document))
    assert [(d["unit_code"], d["kind"], d["applied"]) for d in report.name_differences] == [
        (LOC_THANH, "type_changed", False)
    ]


def test_province_outline_is_derived_from_its_communes(client: TestClient, auth) -> None:
    outline = client.get("/api/v1/units/75/boundary", headers=auth("viewer")).json()
    assert outline["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert 5000 < outline["properties"]["area_km2"] < 15000  # Đồng Nai: about 12,700 km²


def test_boundary_api(client: TestClient, auth) -> None:
    headers = auth("commune")
    one = client.get(f"/api/v1/units/{LONG_THANH}/boundary", headers=headers)
    assert one.status_code == 200 and one.headers["content-type"] == "application/geo+json"
    body = one.json()
    assert body["type"] == "Feature" and body["properties"]["name"] == "Phường Long Thành"
    layer = client.get("/api/v1/boundaries", params={"parent": "75"}, headers=headers)
    assert len(layer.json()["features"]) == 95
    assert "NXB Tài nguyên Môi trường" in layer.json()["attribution"]
    cached = client.get(
        "/api/v1/boundaries",
        params={"parent": "75"},
        headers={**headers, "If-None-Match": layer.headers["ETag"]},
    )
    assert cached.status_code == 304
    none = client.get("/api/v1/units/SYT/boundary", headers=headers)
    assert none.status_code == 404 and none.json()["error"]["code"] == "boundary_not_found"


def test_locate_a_point(client: TestClient, auth) -> None:
    headers = auth("viewer")
    label = client.get(f"/api/v1/units/{LOC_THANH}/boundary", headers=headers).json()["properties"][
        "label"
    ]
    found = client.get("/api/v1/locate", params={"lon": label[0], "lat": label[1]}, headers=headers)
    assert found.json() == {"code": LOC_THANH, "name": "Xã Lộc Thạnh"}
    sea = client.get("/api/v1/locate", params={"lon": 109.5, "lat": 9.0}, headers=headers)
    assert sea.json() == {"code": None, "name": None}


def test_import_through_the_api_is_for_administrators(client: TestClient, auth) -> None:
    document = demo_file()
    document["features"] = document["features"][:2]
    files = {"file": ("two.geojson", encode(document), "application/geo+json")}
    denied = client.post("/api/v1/boundaries/import", files=files, headers=auth("operator"))
    assert denied.status_code == 403
    report = client.post(
        "/api/v1/boundaries/import", files=files, data={"dry_run": "true"}, headers=auth("admin")
    )
    assert report.status_code == 200
    assert report.json()["matched_count"] == 2 and report.json()["dry_run"] is True
    broken = client.post(
        "/api/v1/boundaries/import",
        headers=auth("admin"),
        files={"file": ("x.geojson", b"{not json", "application/geo+json")},
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "malformed_geojson"
