"""Fuzzing the dataValueSet readers (outside bytes, read as a stream): every input ends in rows
or in InvalidInput naming the file, never in another exception. Fixed, derandomized budget."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.values.dvsformat import parse_csv, parse_json

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALID = json.dumps(
    {"dataSet": "F", "period": "202603", "orgUnit": "25280",
     "dataValues": [{"dataElement": "A", "value": "1", "comment": "ghi chú"}, 2]},
    ensure_ascii=False,
).encode()  # fmt: skip
VALID_CSV = "dataelement,period,orgunit,value,comment\nA,202603,25280,1,ghi chú\n".encode()


def read_all(parse, data: bytes) -> None:
    try:
        parsed = parse(data, "fuzz")
        rows = list(parsed.rows)
    except InvalidInput as error:
        assert "fuzz" in error.message
        return
    assert all(isinstance(row.element, str) for row in rows)


def mutated(valid: bytes):
    return st.tuples(st.integers(0, len(valid)), st.integers(0, 8), st.binary(max_size=12)).map(
        lambda cut: valid[: cut[0]] + cut[2] + valid[cut[0] + cut[1] :]
    )


@pytest.mark.parametrize("parse", [parse_json, parse_csv], ids=["json", "csv"])
@FUZZ
@given(data=st.one_of(st.binary(max_size=300), mutated(VALID), mutated(VALID_CSV)))
def test_any_bytes_end_in_rows_or_a_clear_error(parse, data: bytes) -> None:
    read_all(parse, data)
