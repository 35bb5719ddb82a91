"""The stand-ins behave like the systems they stand for: the 1022 hotline's cases move through
its states at their own pace, deterministic per seed, so a case's state follows its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dieuhanh.datahub.standins import HOTLINE_STATES, HotlineStandIn
from tests.datahub.conftest import COMMUNES

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ANSWERED = "Đã trả lời"


def test_the_hotline_s_cases_states_follow_their_age() -> None:
    hotline = HotlineStandIn(list(COMMUNES), now=T0)
    assert hotline.records == HotlineStandIn(list(COMMUNES), now=T0).records  # per seed
    assert hotline.records != HotlineStandIn(list(COMMUNES), now=T0, seed=7).records

    def states(min_days: int, max_days: int) -> list[str]:
        ages = [(T0 - datetime.fromisoformat(r["thoi_gian"])).days for r in hotline.records]
        return [r["trang_thai"] for r, age in zip(hotline.records, ages, strict=True)
                if min_days <= age < max_days]  # fmt: skip

    old, recent = states(14, 99), states(0, 2)
    assert 0.85 * len(old) < old.count(ANSWERED) < len(old)  # mostly answered, a few stalled
    assert ANSWERED not in recent and "Mới tiếp nhận" in recent
    answered = [r for r in hotline.records if r["trang_thai"] == ANSWERED]
    assert all(r["ket_qua"] and r["cap_nhat_luc"] > r["thoi_gian"] for r in answered)


def test_time_passing_moves_the_hotline_s_cases_forward() -> None:
    hotline = HotlineStandIn(list(COMMUNES), now=T0)
    before = [r["trang_thai"] for r in hotline.records]
    later = T0 + timedelta(hours=12)
    hotline.grow(now=later)  # a call arrives, an open case moves on, the others at their pace
    assert len(hotline.records) == 151
    assert hotline.records[-1]["trang_thai"] == HOTLINE_STATES[0]
    assert hotline.records[-1]["thoi_gian"] == later.isoformat()
    after = [r["trang_thai"] for r in hotline.records[:150]]
    moved = [(HOTLINE_STATES.index(b), HOTLINE_STATES.index(a))
             for b, a in zip(before, after, strict=True) if a != b]  # fmt: skip
    assert moved and all(a > b for b, a in moved)  # forward only
    assert all(r["cap_nhat_luc"] <= later.isoformat() for r in hotline.records)
