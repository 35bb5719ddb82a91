"""The assistant in `dieuhanh demo`: nothing to set up (it reads the demo's figures); the banner
says where it is and offers questions that the demo's two years of figures answer."""

from __future__ import annotations

from dieuhanh.core.capability import DemoPart
from dieuhanh.core.runtime import Runtime

QUESTIONS = (
    "Tỷ lệ hồ sơ trễ hạn của xã Lộc Thạnh tháng trước là bao nhiêu?",
    "So với cùng kỳ năm ngoái thì sao?",
    "Top 5 xã có tỷ lệ hồ sơ trực tuyến thấp nhất tháng trước",
    "Tóm tắt tình hình tuần này",
)


def start(_runtime: Runtime) -> DemoPart:
    return DemoPart(
        banner=[
            "Trợ lý (hỏi số liệu bằng tiếng Việt): /assistant — thử hỏi: "
            + " · ".join(f"“{q}”" for q in QUESTIONS)
        ]
    )
