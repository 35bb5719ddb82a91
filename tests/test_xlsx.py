"""Excel workbooks are read within bounds (issue #10, finding 6): the zip is judged before it is
parsed, the header before the rows, and reading stops at the row limit."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest

from dieuhanh.core import tabular, xlsx
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import read_table

SHEET = "xl/worksheets/sheet1.xml"
HEAD = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = "</sheetData></worksheet>"


def small_workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_xml(number: int | None, cells: list[str]) -> str:
    """A row; without a number (optional in the format) every row may be the same bytes."""
    if number is None:
        inline = "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in cells)
        return f"<row>{inline}</row>"
    inline = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(cells)
    )
    return f'<row r="{number}">{inline}</row>'


def generated_workbook(
    header: list[str], count: int, row: Iterator[list[str]], numbered: bool = True
) -> bytes:
    """A real workbook (openpyxl's parts) whose sheet holds ``count`` generated rows: a
    million-row file is made in a moment this way, as an attacker would make it."""
    base = zipfile.ZipFile(io.BytesIO(small_workbook([["x"]])))
    rows = [row_xml(1, header)] + [
        row_xml(n if numbered else None, next(row)) for n in range(2, count + 2)
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in base.infolist():
            if member.filename != SHEET:
                archive.writestr(member, base.read(member))
        archive.writestr(SHEET, HEAD + "".join(rows) + TAIL)
    return out.getvalue()


def numbered() -> Iterator[list[str]]:
    number = 0
    while True:
        number += 1
        yield [f"C{number:06d}", f"Camera {number * 7919 % 100003}"]


def the_same() -> Iterator[list[str]]:
    while True:
        yield ["C1", "Camera"]


def test_a_workbook_with_a_title_above_its_header() -> None:
    data = small_workbook(
        [["Danh sách camera"], [], ["Mã", "Tên", "Ngày"], ["C1", "Cổng chính", date(2026, 3, 1)],
         [], ["C2", 3.0]]
    )  # fmt: skip
    table = read_table(data, "list.xlsx", aliases={"ma": "code", "ten": "name", "ngay": "day"},
                       required=("code", "name"))  # fmt: skip
    assert table.columns == ["code", "name", "day"]
    assert [(row.number, row.values) for row in table.rows] == [
        (4, {"code": "C1", "name": "Cổng chính", "day": "2026-03-01 00:00:00"}),
        (6, {"code": "C2", "name": "3"}),
    ]


def test_a_cell_far_to_the_right_is_refused() -> None:
    base = zipfile.ZipFile(io.BytesIO(small_workbook([["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in base.infolist():
            if member.filename != SHEET:
                archive.writestr(member, base.read(member))
        cell = '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c>'
        archive.writestr(SHEET, HEAD + row_xml(1, ["code"]) + f'<row r="2">{cell}</row>' + TAIL)
    with pytest.raises(InvalidInput) as refused:
        read_table(out.getvalue(), "wide.xlsx", required=("code",))
    assert refused.value.code == "too_many_columns"
    assert "row 2 has a cell in column 16,384" in refused.value.message


def test_past_the_row_limit_it_stops_reading() -> None:
    data = generated_workbook(["code", "name"], 60_000, numbered())
    assert len(data) < 2 * 1024 * 1024  # small on the wire
    read = 0
    with pytest.raises(InvalidInput) as refused:
        for _ in xlsx.read_rows(data, "cameras.xlsx"):
            read += 1
    assert refused.value.code == "too_many_rows"
    assert refused.value.message == (
        "cameras.xlsx: more than 50,000 rows, the limit of one file; split it."
    )
    assert read == 50_000  # of 60,001: the rest was never parsed
    with pytest.raises(InvalidInput, match="more than 50,000 rows"):
        read_table(data, "cameras.xlsx", required=("code", "name"))


def test_wrong_columns_are_refused_after_the_header_rows(monkeypatch) -> None:
    data = generated_workbook(["ma_so", "ten_goi"], 60_000, numbered())
    read = 0
    real = xlsx.read_rows

    def counting(data: bytes, filename: str, limits=xlsx.DEFAULT_LIMITS):  # type: ignore[no-untyped-def]
        nonlocal read
        for row in real(data, filename, limits):
            read += 1
            yield row

    monkeypatch.setattr(xlsx, "read_rows", counting)
    with pytest.raises(InvalidInput) as refused:
        read_table(data, "cameras.xlsx", required=("code", "name"))
    assert refused.value.code == "missing_columns"
    assert "missing column(s) code, name in the header (row 1)" in refused.value.message
    assert read == tabular.HEADER_SEARCH_ROWS  # the rows a title may take, of 60,001


def test_a_bomb_is_refused_from_the_zip_directory() -> None:
    data = generated_workbook(["code", "name"], 200_000, the_same(), numbered=False)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.getinfo(SHEET)
    assert sheet.file_size > 200 * sheet.compress_size  # what makes it a bomb
    rows = xlsx.read_rows(data, "bomb.xlsx")
    with pytest.raises(InvalidInput) as refused:
        next(rows)  # refused before the first row is parsed
    assert refused.value.code == "workbook_too_large"
    assert "is compressed" in refused.value.message
    assert "more than the limit of 100 to 1" in refused.value.message


def test_the_unpacked_size_is_limited() -> None:
    data = generated_workbook(["code", "name"], 30_000, numbered())
    small = xlsx.Limits(max_unpacked_bytes=1024 * 1024)
    with pytest.raises(InvalidInput) as refused:
        next(xlsx.read_rows(data, "big.xlsx", small))
    assert refused.value.code == "workbook_too_large"
    assert refused.value.message.startswith("big.xlsx: unpacks to ")
    assert refused.value.message.endswith("more than the limit of 1 MB; split it.")


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"code,name\nC1,Camera\n", "cameras.xlsx", "named .xlsx but not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "cameras.xls", "Excel 97-2003 (.xls)"),
        (b"PK\x03\x04 broken", "cameras.xlsx", "not a readable Excel workbook"),
    ],
)
def test_files_that_are_not_workbooks(data: bytes, name: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_table(data, name, required=("code",))
    assert refused.value.code == "bad_workbook" and words in refused.value.message


def test_a_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(InvalidInput, match="a zip file but not an Excel workbook"):
        read_table(out.getvalue(), "cameras.xlsx", required=("code",))


def test_a_csv_named_csv_still_reads() -> None:
    table = read_table(b"code,name\nC1,Camera\n", "cameras.csv", required=("code", "name"))
    assert [row.values for row in table.rows] == [{"code": "C1", "name": "Camera"}]


def test_rows_are_counted_by_their_tags_across_chunks(monkeypatch) -> None:
    data = generated_workbook(["code", "name"], 5_000, numbered())
    assert xlsx.count_rows(data, "cameras.xlsx") == 5_001  # the header too
    monkeypatch.setattr(xlsx, "_CHUNK", 7)  # every tag cut somewhere by a chunk's end
    assert xlsx.count_rows(data, "cameras.xlsx") == 5_001
    # A prefixed row counts, an element that merely starts with "row" does not.
    assert len(xlsx._ROW_TAG.findall(b'<x:row r="1"><row><row/><rowBreaks count="1">')) == 3
    with pytest.raises(InvalidInput, match=r"not a readable Excel workbook|not an Excel"):
        xlsx.count_rows(data[:2000], "cameras.xlsx")
