"""Writes the assistant's labelled questions (src/dieuhanh/assistant/labelled_questions.jsonl):
Vietnamese questions as leaders and officers type them — with and without diacritics, with
typos and abbreviations — each with the query it must be read into, for "today" 15/04/2026.

The held-out quarter (split "test") is written from phrasings of its own, kept apart from the
development phrasings (split "dev") the reader was tuned on: it measures phrasing not seen.

    .venv/bin/python scripts/assistant_questions.py   # needs a database with the units (demo)
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from dieuhanh.core.text import fold

OUT = Path(__file__).parent.parent / "src/dieuhanh/assistant/labelled_questions.jsonl"

# The province's communes and wards used (code, name without prefix, prefix), and pre-2025
# names (old commune → today's code).
UNITS = [
    ("25292", "Lộc Quang", "xã"), ("26080", "Long Khánh", "phường"),
    ("26068", "Biên Hòa", "phường"), ("25210", "Đồng Xoài", "phường"), ("26368", "Long Thành", "xã"),
    ("26485", "Nhơn Trạch", "xã"), ("26248", "Trảng Bom", "xã"), ("26341", "Cẩm Mỹ", "xã"),
    ("26425", "Xuân Lộc", "xã"), ("26206", "Định Quán", "xã"), ("25396", "Bù Đăng", "xã"),
    ("25270", "Lộc Ninh", "xã"), ("26005", "Hố Nai", "phường"), ("26017", "Tam Hiệp", "phường"),
    ("25432", "Chơn Thành", "phường"), ("26326", "Dầu Giây", "xã"), ("26116", "Tân Phú", "xã"),
    ("25326", "Bình Long", "phường"), ("26170", "Trị An", "xã"), ("25363", "Đồng Phú", "xã"),
    ("26413", "Long Phước", "xã"), ("25993", "Trảng Dài", "phường"), ("26374", "Tam Phước", "phường"),
    ("26122", "Nam Cát Tiên", "xã"), ("25222", "Bù Gia Mập", "xã"), ("26311", "Gia Kiệm", "xã"),
]  # fmt: skip
OLD_NAMES = [("Thanh Lương", "25336"), ("Bảo Quang", "26098"), ("Suối Tre", "26089")]
PROVINCE = "75"

MEASURES = {
    "OVERDUE_DOSSIER_RATE": ["tỷ lệ hồ sơ trễ hạn", "tỷ lệ hồ sơ quá hạn", "tỷ lệ trễ hạn",
                             "tỷ lệ hồ sơ thủ tục hành chính giải quyết quá hạn"],
    "ON_TIME_DOSSIER_RATE": ["tỷ lệ hồ sơ đúng hạn", "tỷ lệ giải quyết đúng hạn",
                             "tỷ lệ hồ sơ giải quyết đúng hẹn"],
    "ONLINE_DOSSIER_RATE": ["tỷ lệ hồ sơ trực tuyến", "tỷ lệ nộp hồ sơ trực tuyến",
                            "tỷ lệ dịch vụ công trực tuyến"],
    "DOC_ON_TIME_RATE": ["tỷ lệ văn bản xử lý đúng hạn", "tỷ lệ xử lý văn bản đúng hạn"],
    "DIGITAL_SIGNATURE_RATE": ["tỷ lệ ký số", "tỷ lệ văn bản đi được ký số"],
    "REPORTS_1022_ON_TIME_RATE": ["tỷ lệ phản ánh 1022 xử lý đúng hạn",
                                  "tỷ lệ xử lý phản ánh đúng hạn"],
    "#DOSSIERS_RECEIVED": ["số hồ sơ tiếp nhận", "số hồ sơ thủ tục hành chính tiếp nhận"],
    "#DOSSIERS_OVERDUE": ["số hồ sơ trễ hạn", "số hồ sơ quá hạn"],
    "#DOCS_INCOMING": ["số văn bản đến"],
    "#REPORTS_1022": ["số phản ánh qua tổng đài 1022", "số phản ánh kiến nghị"],
}  # fmt: skip
# Held-out phrasings of the same measures, never used while tuning the reader.
HELD_MEASURES = {
    "OVERDUE_DOSSIER_RATE": ["tỉ lệ hồ sơ giải quyết trễ hạn", "tỷ lệ hồ sơ TTHC quá hạn"],
    "ON_TIME_DOSSIER_RATE": ["tỷ lệ hồ sơ TTHC đúng hạn", "tỷ lệ đúng hạn"],
    "ONLINE_DOSSIER_RATE": ["tỷ lệ DVC trực tuyến", "tỷ lệ hồ sơ nộp online"],
    "DIGITAL_SIGNATURE_RATE": ["tỷ lệ văn bản ký số", "tỷ lệ chữ ký số"],
    "DOC_ON_TIME_RATE": ["tỷ lệ văn bản đến xử lý đúng hạn"],
    "#DOSSIERS_RECEIVED": ["lượng hồ sơ tiếp nhận", "số HS tiếp nhận"],
    "#REPORTS_1022": ["số phản ánh của người dân", "số cuộc gọi 1022"],
    "#DOSSIERS_OVERDUE": ["số hồ sơ chậm hạn", "số HS trễ hạn"],
}  # fmt: skip
PERIODS = [  # (words, period codes) for today = 15/04/2026
    ("tháng trước", ["202603"]), ("tháng 3", ["202603"]), ("tháng 2/2026", ["202602"]),
    ("tháng 12 năm 2025", ["202512"]), ("T11/2025", ["202511"]), ("quý 1", ["2026Q1"]),
    ("quý 3 năm 2025", ["2025Q3"]), ("quý IV/2025", ["2025Q4"]), ("quý trước", ["2026Q1"]),
    ("6 tháng đầu năm 2025", ["2025S1"]), ("6 tháng cuối năm 2025", ["2025S2"]),
    ("năm 2025", ["2025"]), ("năm ngoái", ["2025"]), ("từ đầu năm", ["2026"]),
    ("từ đầu năm đến nay", ["2026"]), ("tháng 10 năm 2025", ["202510"]),
]  # fmt: skip
HELD_PERIODS = [
    ("tháng vừa qua", ["202603"]), ("trong tháng 1 năm 2026", ["202601"]),
    ("quý II/2025", ["2025Q2"]), ("nửa đầu năm 2025", ["2025S1"]), ("lũy kế từ đầu năm", ["2026"]),
    ("năm trước", ["2025"]), ("Q4 2025", ["2025Q4"]), ("tháng 9/2025", ["202509"]),
]  # fmt: skip
LAST_12 = [f"2025{m:02d}" for m in range(4, 13)] + ["202601", "202602", "202603"]


def query(operation: str, indicator: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "operation": operation, "indicator": indicator, "units": fields.get("units", []),
        "level": fields.get("level"), "periods": fields.get("periods", []),
        "order": fields.get("order"), "limit": fields.get("limit"),
        "subject": fields.get("subject"), "state": fields.get("state"),
    }  # fmt: skip


class Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict[str, Any]] = []

    def unit(self) -> tuple[str, str]:
        code, name, prefix = self.rng.choice(UNITS)
        style = self.rng.random()
        if style < 0.45:
            return code, f"{prefix} {name}"
        if style < 0.75:
            return code, name
        if style < 0.85:
            return code, f"UBND {prefix} {name}"
        return code, f"{prefix.capitalize()} {name}"

    def add(self, text: str, expected: dict[str, Any], split: str, kind: str) -> None:
        variant = self.rng.random()
        style = "plain"
        if variant < 0.3:
            text, style = fold_keep_case(text), "no_diacritics"
        elif variant < 0.42:
            text, style = typo(text, self.rng), "typo"
        elif variant < 0.5:
            text, style = text.lower(), "lower"
        self.rows.append({"question": text[0].upper() + text[1:], "expected": expected,
                          "split": split, "kind": kind, "style": style})  # fmt: skip


def fold_keep_case(text: str) -> str:
    return " ".join(fold(word) if any(c.isalpha() for c in word) else word
                    for word in text.split())  # fmt: skip


def typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    words[i] = word[:j] + word[j + 1 :] if rng.random() < 0.5 else word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def develop(w: Writer) -> None:
    rng = w.rng
    for _ in range(110):  # value
        code, measure = rng.choice(list(MEASURES.items()))
        phrase = rng.choice(measure)
        unit, name = w.unit()
        words, periods = rng.choice(PERIODS)
        template = rng.choice([
            "{m} của {u} {p} là bao nhiêu?", "{u} {p} {m} bao nhiêu", "cho tôi biết {m} {u} {p}",
            "{m} {p} của {u}", "{m} tại {u} {p} đạt bao nhiêu",
        ])  # fmt: skip
        w.add(template.format(m=phrase, u=name, p=words),
              query("value", code, units=[unit], periods=periods), "dev", "value")  # fmt: skip
    for _ in range(15):  # value, province and default period
        code, measure = rng.choice(list(MEASURES.items()))
        phrase = rng.choice(measure)
        if rng.random() < 0.5:
            w.add(f"{phrase} toàn tỉnh {PERIODS[0][0]}",
                  query("value", code, units=[PROVINCE], periods=["202603"]), "dev", "value")
        else:
            unit, name = w.unit()
            w.add(f"{phrase} của {name}",
                  query("value", code, units=[unit], periods=["202603"]), "dev", "value")
    for _ in range(45):  # comparisons
        code, measure = rng.choice(list(MEASURES.items()))
        unit, name = w.unit()
        words, periods = rng.choice(PERIODS[:13])
        if rng.random() < 0.6:
            template = rng.choice(["{m} của {u} {p} so với cùng kỳ năm trước",
                                   "so sánh {m} {u} {p} với cùng kỳ", "{m} {u} {p} so với năm ngoái"])
            op = "compare_last_year"
        else:
            template = rng.choice(["{m} {u} {p} so với kỳ trước", "{m} của {u} {p} so với tháng trước"])
            op = "compare_previous"
        w.add(template.format(m=rng.choice(measure), u=name, p=words),
              query(op, code, units=[unit], periods=periods), "dev", op)  # fmt: skip
    for _ in range(60):  # rankings
        code, measure = rng.choice(list(MEASURES.items()))
        words, periods = rng.choice(PERIODS)
        n = rng.choice([3, 5, 10])
        template, order, limit = rng.choice([
            ("xã nào có {m} cao nhất {p}", "highest", 5),
            ("top {n} xã có {m} thấp nhất {p}", "lowest", n),
            ("{n} xã có {m} cao nhất {p}", "highest", n),
            ("xếp hạng các xã theo {m} {p}", "highest", 5),
            ("xã nào có {m} thấp nhất {p}", "lowest", 5),
            ("đơn vị nào có {m} nhiều nhất {p}", "highest", 5),
        ])  # fmt: skip
        w.add(template.format(m=rng.choice(measure), n=n, p=words),
              query("rank", code, level="commune", periods=periods, order=order, limit=limit),
              "dev", "rank")  # fmt: skip
    for _ in range(40):  # trends
        code, measure = rng.choice(list(MEASURES.items()))
        unit, name = w.unit()
        template, periods = rng.choice([
            ("xu hướng {m} của {u} 12 tháng qua", LAST_12),
            ("diễn biến {m} {u} qua các tháng", LAST_12),
            ("{m} của {u} biến động thế nào trong năm 2025", [f"2025{m:02d}" for m in range(1, 13)]),
            ("xu hướng {m} {u} 6 tháng qua", LAST_12[-6:]),
        ])  # fmt: skip
        w.add(template.format(m=rng.choice(measure), u=name),
              query("trend", code, units=[unit], periods=periods), "dev", "trend")  # fmt: skip
    for _ in range(25):  # reporting status
        words, periods = rng.choice([p for p in PERIODS if p[1][0].isdigit() and len(p[1][0]) == 6])
        template = rng.choice(["xã nào chưa nộp báo cáo {p}", "những xã nào chưa gửi báo cáo {p}",
                               "xã phường nào chưa báo cáo {p}"])  # fmt: skip
        w.add(template.format(p=words),
              query("reporting", "COMMUNE_MONTHLY", level="commune", periods=periods),
              "dev", "reporting")  # fmt: skip
    for _ in range(30):  # state of things
        unit, name = w.unit()
        text, expected = rng.choice([
            (f"camera nào ở {name} đang mất tín hiệu",
             query("status", units=[unit], subject="cameras", state="dead")),
            ("có bao nhiêu camera đang hoạt động",
             query("status", units=[PROVINCE], subject="cameras", state="live")),
            ("nguồn dữ liệu nào đang lỗi", query("status", units=[PROVINCE], subject="sources",
                                                  state="failing")),
            (f"cảnh báo nào đang mở ở {name}",
             query("status", units=[unit], subject="alerts", state="open")),
            ("phản ánh hiện trường nào quá hạn",
             query("status", units=[PROVINCE], subject="reports", state="overdue")),
        ])  # fmt: skip
        w.add(text, expected, "dev", "status")
    for text in ["tóm tắt tình hình tuần này", "bản tin điều hành", "tóm tắt tình hình hôm nay",
                 "tình hình tuần này thế nào"]:  # fmt: skip
        w.add(text, query("briefing", units=[PROVINCE]), "dev", "briefing")
    for old, code in OLD_NAMES:  # pre-2025 names
        w.add(f"tỷ lệ hồ sơ trễ hạn xã {old} tháng trước",
              query("value", "OVERDUE_DOSSIER_RATE", units=[code], periods=["202603"]), "dev", "value")


def held_out(w: Writer) -> None:
    rng = w.rng
    for _ in range(65):
        code, measure = rng.choice(list(HELD_MEASURES.items()))
        unit, name = w.unit()
        words, periods = rng.choice(HELD_PERIODS)
        template = rng.choice(["Mình muốn xem {m} ở {u} {p}", "{u}: {m} {p}?",
                               "{m} {p} của {u} thế nào vậy", "Xin số liệu {m} {u} {p}",
                               "Anh chị cho hỏi {m} của {u} {p}"])  # fmt: skip
        w.add(template.format(m=rng.choice(measure), u=name, p=words),
              query("value", code, units=[unit], periods=periods), "test", "value")  # fmt: skip
    for _ in range(25):
        code, measure = rng.choice(list(HELD_MEASURES.items()))
        unit, name = w.unit()
        words, periods = rng.choice(HELD_PERIODS)
        w.add(f"{rng.choice(measure)} ở {name} {words} có tăng so với cùng kỳ không?",
              query("compare_last_year", code, units=[unit], periods=periods), "test", "compare")
    for _ in range(25):
        code, measure = rng.choice(list(HELD_MEASURES.items()))
        words, periods = rng.choice(HELD_PERIODS)
        template, order = rng.choice([("Đơn vị nào đứng đầu về {m} {p}?", "highest"),
                                      ("Xã nào đứng cuối về {m} {p}", "lowest")])  # fmt: skip
        w.add(template.format(m=rng.choice(measure), p=words),
              query("rank", code, level="commune", periods=periods, order=order, limit=5),
              "test", "rank")  # fmt: skip
    for _ in range(20):
        code, measure = rng.choice(list(HELD_MEASURES.items()))
        unit, name = w.unit()
        w.add(f"Diễn biến {rng.choice(measure)} của {name} trong 12 tháng gần đây",
              query("trend", code, units=[unit], periods=LAST_12), "test", "trend")
    for words, periods in [("tháng vừa qua", ["202603"]), ("tháng 9/2025", ["202509"]),
                           ("trong tháng 1 năm 2026", ["202601"])] * 3:  # fmt: skip
        w.add(f"Còn xã nào chưa nộp báo cáo {words} không?",
              query("reporting", "COMMUNE_MONTHLY", level="commune", periods=periods),
              "test", "reporting")  # fmt: skip
    for _ in range(8):
        unit, name = w.unit()
        w.add(f"Có camera nào ở {name} bị mất kết nối không?",
              query("status", units=[unit], subject="cameras", state="dead"), "test", "status")
    for text in ["Tóm tắt tình hình chung", "Cho tôi bản tin tình hình tuần này"]:
        w.add(text, query("briefing", units=[PROVINCE]), "test", "briefing")


def main() -> None:
    dev, test = Writer(14), Writer(1414)
    develop(dev)
    held_out(test)
    rows = dev.rows + test.rows
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row["question"] not in seen:
            seen.add(row["question"])
            kept.append(row)
    with OUT.open("w", encoding="utf-8") as out:
        for row in kept:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = {s: sum(1 for r in kept if r["split"] == s) for s in ("dev", "test")}
    print(f"{len(seen)} questions written to {OUT} ({counts})", file=sys.stderr)


if __name__ == "__main__":
    main()
