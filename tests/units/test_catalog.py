"""The official list of units, loaded from vietnam-provinces, on both databases."""

from sqlalchemy import func, select
from vietnam_provinces import Province, Ward

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db import migrate
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.catalog import REFERENCE_VALID_FROM, load_reference
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit, name_as_of
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType


def _count(runtime: Runtime, *types: UnitType) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(Unit)
            .where(Unit.type.in_([t.value for t in types]), Unit.source == "vietnam-provinces")
        )


def test_34_provinces_and_3321_communes_are_loaded(runtime: Runtime) -> None:
    assert _count(runtime, UnitType.PROVINCE, UnitType.MUNICIPALITY) == 34
    assert _count(runtime, *COMMUNE_LEVEL) == 3321


def test_dong_nai_has_exactly_its_95_communes_with_official_codes_and_names(
    runtime: Runtime,
) -> None:
    official = {
        f"{int(ward.code):05d}": ward.name
        for ward in Ward.iter_by_province(Province.from_code(75).code)
    }
    assert len(official) == 95
    with runtime.sessions() as session:
        province = get_unit(session, "75")
        assert province.name == "Đồng Nai"
        communes = session.scalars(
            select(Unit).where(
                Unit.parent_id == province.id, Unit.type.in_([t.value for t in COMMUNE_LEVEL])
            )
        ).all()
        # The name each unit had when the official list took effect is the official name, even
        # for the ten units renamed since (their current names are tested with the boundaries).
        loaded = {unit.code: name_as_of(unit, REFERENCE_VALID_FROM).name for unit in communes}
    assert loaded == official


def test_every_official_code_and_name_matches(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        rows = {
            code: codename
            for code, codename in session.execute(
                select(Unit.code, Unit.codename).where(Unit.source == "vietnam-provinces")
            )
        }
    for ward in Ward.iter_all():
        assert rows[f"{int(ward.code):05d}"] == ward.codename
    for province in Province.iter_all():
        assert rows[f"{int(province.code):02d}"] == province.codename


def test_loading_again_changes_nothing(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        report = load_reference(session)
        session.commit()
    assert report.created == 0
    assert report.unchanged == 34 + 3321
    assert report.differing == []


def test_load_on_an_empty_database_is_summarised_in_the_audit_log(
    empty_database_url, make_runtime
) -> None:
    runtime = make_runtime(empty_database_url)
    migrate.upgrade(runtime.engine)
    with runtime.sessions() as session:
        report = load_reference(session)
        session.commit()
        assert report.created == 3355
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "units")).all()
    # Thousands of reference rows become a few summary entries, each with its count.
    assert 1 <= len(entries) <= 4
    assert sum(entry.after["count"] for entry in entries) == 3355
    assert all("vietnam-provinces" in entry.note for entry in entries)
