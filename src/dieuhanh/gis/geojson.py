"""Reading polygon files: a GeoJSON FeatureCollection in WGS84, checked feature by feature."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import decode_utf8

# Names under which GeoJSON files commonly declare plain longitude/latitude.
WGS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "CRS84",
}
KM_PER_DEGREE = 111.32
COORDINATE_DIGITS = 6  # ~0.1 m, finer than any boundary survey


@dataclass
class Feature:
    index: int  # 1-based position in the file
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    problem: str | None = None  # why the feature cannot be used
    repaired: str | None = None  # what was wrong with a geometry that was made valid


@dataclass
class PolygonFile:
    filename: str
    sha256: str
    metadata: dict[str, Any]
    features: list[Feature] = field(default_factory=list)


def read_polygon_file(data: bytes, filename: str) -> PolygonFile:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InvalidInput(
                f"{filename}: damaged gzip file ({exc}).", code="malformed_file"
            ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    text = decode_utf8(data, filename)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{filename}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            code="malformed_geojson",
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        found = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise InvalidInput(
            f"{filename}: expected a GeoJSON FeatureCollection, found {found!r}.",
            code="malformed_geojson",
        )
    _check_crs(document, filename)
    raw_features = document.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        raise InvalidInput(
            f"{filename}: the FeatureCollection has no features.", code="malformed_geojson"
        )
    metadata = {
        k: v for k, v in document.items() if k not in ("type", "features") and isinstance(v, str)
    }
    result = PolygonFile(filename=filename, sha256=sha256, metadata=metadata)
    result.features = [_read_feature(index, raw) for index, raw in enumerate(raw_features, start=1)]
    _reject_projected(result, filename)
    return result


def _check_crs(document: dict[str, Any], filename: str) -> None:
    crs = document.get("crs")
    if not crs:
        return
    name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
    if name not in WGS84_NAMES:
        raise InvalidInput(
            f"{filename}: coordinates are in {name or 'an unnamed CRS'}; convert the file to "
            "WGS84 longitude/latitude (EPSG:4326), e.g. with ogr2ogr -t_srs EPSG:4326.",
            code="unsupported_crs",
        )


def _read_feature(index: int, raw: Any) -> Feature:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        return Feature(index, {}, problem="not a GeoJSON Feature")
    properties: dict[str, Any] = (
        raw["properties"] if isinstance(raw.get("properties"), dict) else {}
    )
    feature = Feature(index, properties)
    geometry = raw.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        found = geometry.get("type") if isinstance(geometry, dict) else geometry
        feature.problem = f"geometry must be a Polygon or MultiPolygon, found {found!r}"
        return feature
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        feature.problem = f"malformed coordinates ({exc})"
        return feature
    if geom.is_empty:
        feature.problem = "empty geometry"
        return feature
    if not geom.is_valid:
        feature.repaired = explain_validity(geom)
        geom = _polygonal(shapely.make_valid(geom))
        if geom is None:
            feature.problem = f"invalid geometry that cannot be repaired ({feature.repaired})"
            return feature
    feature.geometry = geom
    return feature


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """Keep the polygon parts of a repaired geometry (make_valid may add stray lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _reject_projected(result: PolygonFile, filename: str) -> None:
    for feature in result.features:
        if feature.geometry is None:
            continue
        min_x, min_y, max_x, max_y = feature.geometry.bounds
        if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
            raise InvalidInput(
                f"{filename}: feature {feature.index} has coordinates ({min_x:.0f}, {min_y:.0f}) "
                "outside longitude/latitude; the file looks projected (VN-2000, UTM). Convert it "
                "to WGS84 (EPSG:4326).",
                code="unsupported_crs",
            )


@dataclass(frozen=True)
class Measured:
    geometry: dict[str, Any]
    geometry_hash: str
    bounds: tuple[float, float, float, float]
    label: tuple[float, float]
    area_km2: float


def measure(geom: BaseGeometry) -> Measured:
    rounded = shapely.set_precision(geom, 10**-COORDINATE_DIGITS)
    if rounded.is_empty or not rounded.is_valid:
        rounded = geom
    as_json = json.loads(json.dumps(mapping(rounded)))
    digest = hashlib.sha256(json.dumps(as_json, sort_keys=True).encode()).hexdigest()
    label = rounded.representative_point()
    centroid_lat = rounded.centroid.y
    # Degrees² to km² at the polygon's latitude: within 0.5 % for a commune-sized area.
    area = rounded.area * KM_PER_DEGREE**2 * math.cos(math.radians(centroid_lat))
    return Measured(
        geometry=as_json,
        geometry_hash=digest,
        bounds=rounded.bounds,
        label=(round(label.x, COORDINATE_DIGITS), round(label.y, COORDINATE_DIGITS)),
        area_km2=round(area, 2),
    )
