"""Fuzzing the workbook readers with damaged sheets (outside bytes): reading the rows, counting
them by their tags, and streaming a table under its header each end in rows or in InvalidInput
naming the file, never in another exception; and the count is never under the rows read (an
upload refuses a file over its limit by the count, before reading). Fixed, derandomized budget."""

from __future__ import annotations

import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dieuhanh.core import xlsx
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import stream_workbook
from tests.test_xlsx import SHEET, small_workbook

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BASE = small_workbook(
    [["Báo cáo"], ["Mã đơn vị", "Tháng", "Giá trị"], ["25195", "202603", 12],
     ["25210", "202603", 3.5], [], ["25222", "202602", "mười"]]
)  # fmt: skip
SHEET_XML = zipfile.ZipFile(io.BytesIO(BASE)).read(SHEET)


def with_sheet(xml: bytes) -> bytes:
    """The workbook with its first sheet's XML replaced: the zip itself stays sound, so the
    damage reaches the sheet's parser and the tag counter."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(BASE)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            data = xml if member.filename == SHEET else source.read(member.filename)
            target.writestr(member, data)
    return out.getvalue()


def damaged() -> st.SearchStrategy[bytes]:
    edits = st.tuples(st.integers(0, len(SHEET_XML)), st.integers(0, 16), st.binary(max_size=24))
    extra = st.sampled_from(
        [b"", b"<row r='9'>", b"</row>", b"<x:row>", b"<rowBreaks/>", b"<c r='A99'><v>1</v></c>"]
    )

    def apply(edit: tuple[tuple[int, int, bytes], bytes]) -> bytes:
        (at, cut, insert), more = edit
        return SHEET_XML[:at] + insert + more + SHEET_XML[at + cut :]

    return st.tuples(edits, extra).map(apply)


@FUZZ
@given(damaged())
def test_a_damaged_sheet_is_read_counted_or_refused_by_name(xml: bytes) -> None:
    data = with_sheet(xml)
    try:
        rows = list(xlsx.read_rows(data, "fuzz.xlsx"))
    except InvalidInput as error:
        assert "fuzz.xlsx" in error.message
        rows = None
    try:
        count = xlsx.count_rows(data, "fuzz.xlsx")
    except InvalidInput as error:
        assert "fuzz.xlsx" in error.message
        count = None
    if rows is not None and count is not None:
        assert count >= len(rows)  # over, never under
    try:
        sheet = stream_workbook(data, "fuzz.xlsx", {}, ("ma_don_vi", "thang"))
        for row in sheet.rows:
            assert all(isinstance(value, str) for value in row.values.values())
    except InvalidInput as error:
        assert "fuzz.xlsx" in error.message
