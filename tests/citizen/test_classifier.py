"""The category suggestion, offline, on the held-out part of the shipped labelled reports (never
trained on): its accuracy is printed and held to the goal of 85 %."""

from __future__ import annotations

from collections import Counter

from dieuhanh.citizen import classifier


def test_held_out_accuracy_meets_the_goal(capsys) -> None:
    items = classifier.labelled()
    splits = Counter(item.split for item in items)
    assert splits["test"] >= 200 and splits["train"] >= 400
    train = {item.text for item in items if item.split == "train"}
    assert not any(item.text in train for item in items if item.split == "test")
    accuracy, total, per = classifier.held_out_accuracy()
    with capsys.disabled():
        print(f"\ncategory suggestion, held-out accuracy: {accuracy:.1%} of {total} reports")
        for code, (right, seen) in sorted(per.items()):
            print(f"  {code:15} {right:3}/{seen}")
    assert accuracy >= 0.85


def test_suggestions_ignore_diacritics_and_say_how_sure() -> None:
    with_marks = classifier.suggest("Đèn đường trước nhà bị hư ba ngày nay, tối om.")
    without = classifier.suggest("den duong truoc nha bi hu ba ngay nay, toi om.")
    assert with_marks is not None and without is not None
    assert with_marks[0] == without[0] == "lighting"
    assert 0 < with_marks[1] <= 1
    assert classifier.suggest("   ") is None


def test_retraining_from_staff_corrections() -> None:
    text = "Xe bồn chở nước thải đổ trộm xuống mương lúc nửa đêm ở ấp Bàu Cối."
    try:
        assert classifier.retrain([(text, "security")] * 30) == 30
        assert classifier.suggest(text) is not None
        assert classifier.suggest(text)[0] == "security"  # type: ignore[index]
    finally:
        classifier.retrain([])
