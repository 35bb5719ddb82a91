"""The words that say what a question asks, on folded text: the operation (value, comparison,
ranking, trend, reporting status, state of things, briefing), its order and its states.

Phrases are matched as whole words, and a few glue words may sit between their words or be left
out (*chưa được tiếp nhận* is *chưa tiếp nhận*; *tỷ lệ văn bản đi ký số* is *… đi được ký số*),
so each phrase is written once, in its plainest form.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dieuhanh.core.text import fold

# Words that may be added or left out inside a phrase without changing what it names.
GLUE = frozenset(["duoc", "bi", "da", "cac", "nhung"])


def phrases(text: str) -> list[str]:
    return [fold(p) for p in text.split("|")]


@lru_cache(maxsize=4096)
def pattern(phrase: str) -> re.Pattern[str]:
    """``phrase`` as a regex of whole words; glue words inside it optional, others allowed."""
    words = phrase.split()
    inner = [w for w in words[1:-1] if w not in GLUE]
    kept = [words[0], *inner, words[-1]] if len(words) > 1 else words
    glue = r"(?: (?:" + "|".join(sorted(GLUE)) + r"))?"
    body = glue.join(" " + re.escape(w) if i else re.escape(w) for i, w in enumerate(kept))
    return re.compile(rf"\b{body}\b")


# Words of a name that ask rather than name ("bao nhiêu hồ sơ" names dossiers, 2 words).
ASKING = frozenset(["bao", "nhieu", "may"])


def size(phrase: str) -> int:
    """How many different words of a name say what it is: not glue, not question words."""
    return len(content(phrase))


def content(phrase: str) -> list[str]:
    return list(dict.fromkeys(w for w in phrase.split() if w not in GLUE and w not in ASKING))


def find(text: str, candidates: list[str]) -> re.Match[str] | None:
    """The first (then longest) match of any of the phrases."""
    found = [m for p in candidates if (m := pattern(p).search(text)) is not None]
    return min(found, key=lambda m: (m.start(), -len(m.group()))) if found else None


BRIEFING = phrases(
    "tom tat tinh hinh|tom tat|tinh hinh tuan|ban tin|diem tin|tong quan tinh hinh|"
    "tinh hinh chung|bao cao nhanh|co gi noi bat|noi bat|tom luoc|diem bao|tong hop tinh hinh|"
    "tinh hinh hom nay|tinh hinh dieu hanh|can chu y|can luu y|dang chu y|diem qua tinh hinh|"
    "co gi moi|tinh hinh tuan qua"
)
CAMERA = phrases("camera|cameras|may quay|mat camera|luong camera|luong video")
SOURCES = phrases(
    "nguon du lieu|ket noi du lieu|dong bo du lieu|nguon ket noi|nguon nao|cac nguon|"
    "he thong nguon|ket noi lien thong|ket noi|igate|dnis|lgsp|ndxp"
)
ALERTS = phrases("canh bao")
CITIZEN = phrases("phan anh hien truong|phan anh cua nguoi dan|phan anh nguoi dan")
REPORT_STATUS = phrases(
    "chua xu ly|dang xu ly|ton dong|dang mo|con mo|tinh trang|qua han xu ly|chua giai quyet|"
    "cho xu ly|tre han|qua han|dang giai quyet"
)
_DEAD = (
    "khong con hoat dong|mat tin hieu|mat ket noi|khong hoat dong|ngung hoat dong|hong|offline|"
    "mat song|khong co tin hieu|khong xem duoc|chet|dead|loi|mat luong|khong len hinh|"
    "khong co hinh|mat hinh|hu hong|hu|ngat ket noi|khong ket noi|gian doan"
)
_LIVE = "dang hoat dong|hoat dong binh thuong|online|con song|live|con hoat dong|dang chay|con chay"
_FAILING = (
    "loi|that bai|hong|khong chay|failing|khong dong bo|khong ket noi|mat ket noi|ngung|"
    "dong bo loi|ket noi loi|gian doan"
)
_LATE = "cham|tre|khong cap nhat|cu|qua han|late|lau chua cap nhat|chua cap nhat|khong moi"
_UNKNOWN = "chua ro trang thai|khong ro trang thai|chua xac dinh|chua ro|khong ro|unknown"
_NEVER = "chua chay lan nao|chua dong bo lan nao|chua tung|chua bao gio|chua ket noi"
_UP = "dang hoat dong|hoat dong binh thuong|binh thuong|cap nhat dung han|on dinh|live"
STATES = {
    "cameras": [("dead", phrases(_DEAD)), ("unknown", phrases(_UNKNOWN)), ("live", phrases(_LIVE))],
    "sources": [
        ("never", phrases(_NEVER)), ("failing", phrases(_FAILING)), ("late", phrases(_LATE)),
        ("live", phrases(_UP)),
    ],
    "alerts": [
        ("open", phrases("dang mo|chua xu ly|chua tiep nhan|con mo|moi|cho tiep nhan|cho xu ly")),
        ("acknowledged", phrases("da tiep nhan|dang xu ly|chua xu ly xong|dang giai quyet")),
    ],
    "reports": [
        ("overdue", phrases("qua han|tre han|tre hen|qua thoi han")),
        ("open", phrases(
            "dang xu ly|chua xu ly|cho xu ly|ton dong|dang mo|con mo|chua giai quyet|"
            "dang giai quyet"
        )),
    ],
}  # fmt: skip
REPORTING = phrases(
    "chua nop bao cao|chua gui bao cao|chua bao cao|chua nop|chua gui|nop bao cao|gui bao cao|"
    "nop muon|nop tre|tinh hinh bao cao|da nop bao cao|chua hoan thanh bao cao|bao cao tre|"
    "bao cao muon|cham bao cao|chua co bao cao|thieu bao cao|chua nhap so lieu|"
    "chua cap nhat so lieu|chua nhap lieu|chua co so lieu|cham nop|cham gui"
)
# "Báo cáo tháng 3 còn thiếu xã nào?", "đã báo cáo tháng 3 chưa?": a report and a word of
# its state anywhere in a question that names no figure.
REPORT = phrases("bao cao")
REPORT_STATE = phrases("chua|thieu|nop|gui|muon|cham")
HIGHEST = phrases(
    "cao nhat|nhieu nhat|lon nhat|dung dau|dan dau|top|xep hang|bang xep hang|xep thu nhat|"
    "dung thu nhat|hang nhat|xep dau|thu hang|dung nhat|xep nhat"
)
LOWEST = phrases(
    "thap nhat|it nhat|nho nhat|dung cuoi|cuoi bang|xep cuoi|bet bang|chot bang|cuoi cung"
)
BEST = phrases("tot nhat|xuat sac nhat|nhanh nhat|hieu qua nhat|tich cuc nhat|cao diem")
WORST = phrases("kem nhat|te nhat|cham nhat|yeu nhat|xau nhat|toi nhat|keo nhat")
TREND = phrases(
    "xu huong|dien bien|bien dong|tang hay giam|tang giam|qua cac thang|theo thang|"
    "theo tung thang|bieu do|thay doi the nao|thay doi ra sao|qua tung thang|hang thang|"
    "do thi|len xuong|qua cac quy|theo quy|tung thang"
)
LAST_YEAR = phrases(
    "cung ky nam truoc|cung ky nam ngoai|cung ky|so voi nam truoc|so voi nam ngoai|"
    "cung thoi diem nam truoc|cung thoi diem nam ngoai|voi nam truoc|voi nam ngoai|"
    "cung thang nam truoc|cung thang nam ngoai|cung quy nam truoc"
)
PREVIOUS = phrases(
    "so voi thang truoc|so voi quy truoc|so voi ky truoc|so voi thang lien truoc|"
    "so voi tuan truoc|so voi lan truoc|voi thang truoc|voi quy truoc|voi ky truoc|"
    "thang lien ke|quy lien ke|ky lien ke|ky truoc"
)
_LOW_WORDS = ("thap", "it", "nho")
SPLIT_SUPERLATIVE = re.compile(r"\b(cao|nhieu|lon|thap|it|nho)\b(?: \w+){1,8} nhat\b")
FOLLOW_UP = phrases("con|thi sao|the nao|ra sao|vay|so voi|cung ky|the con|con o")
BEFORE_THAT = phrases("thang truoc do|quy truoc do|ky truoc do|nam truoc do|thang lien truoc do")
# "Sở nào", "các sở, ban, ngành", but not "các số liệu" (sở and số fold alike).
DEPARTMENTS = re.compile(
    r"\b(?:so|so nganh|so ban nganh|co quan|ban nganh|don vi cap tinh) nao\b"
    r"|\b(?:cac|nhung) (?:so|co quan)\b(?! (?:lieu|ho|van|phan|luong|thu))"
    r"|\bso (?:ban )?nganh\b|\bco quan cap tinh\b|\bcap so\b|\b[0-9]{1,2} (?:so|co quan)\b"
)
# Words that ask for a share rather than a count: "%", "bao nhiêu phần trăm", "tiến độ".
RATE = phrases("phan tram|ty le|tien do|dat bao nhieu phan tram")
# Common words whose first syllable is also a unit's name ("tình hình": not the province).
NOT_NAMES = phrases("tinh hinh|tinh trang|tinh toan|tinh chung")


def every_phrase() -> list[str]:
    """All the cue phrases: which word follows which in them helps correct typos."""
    lists = [
        BRIEFING, CAMERA, SOURCES, ALERTS, CITIZEN, REPORT_STATUS, REPORTING, HIGHEST, LOWEST,
        BEST, WORST, TREND, LAST_YEAR, PREVIOUS, FOLLOW_UP, BEFORE_THAT, RATE,
    ]  # fmt: skip
    states = [p for entries in STATES.values() for _name, ps in entries for p in ps]
    return [p for ps in lists for p in ps] + states + [
        "xa phuong nao", "so nao", "so nganh nao", "cac so ban nganh", "don vi nao",
        "dia phuong nao", "xa nao", "phuong nao", "top #", "# xa", "# phuong", "# don vi",
    ]  # fmt: skip


# Ranking and trend cues: right after "xã"/"phường" they start no name ("xã yếu nhất").
ORDERS = [p for ps in (HIGHEST, LOWEST, BEST, WORST, TREND) for p in ps]


def starts_with(text: str, candidates: list[str]) -> bool:
    found = find(text, candidates)
    return found is not None and found.start() == 0
