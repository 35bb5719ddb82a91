"""The indicator or data element a question names: the longest known name found (glue words
such as *được* optional inside it), a name whose words are all there but apart, and the rate
rather than the count when the question asks for a share (*%*, *phần trăm*, *tỷ lệ* said
apart, *tiến độ*, or a ranking by quality: *tốt nhất*, *kém nhất*)."""

from __future__ import annotations

from dieuhanh.assistant import cues
from dieuhanh.assistant.reading import Choice, Reading
from dieuhanh.assistant.words import word_set

RATE_PREFIX = "ty le "
Span = tuple[int, int]
Found = tuple[int, list[Span], str, str]  # (words of the name, where they are, code, name)
# Words a question may hold besides its names, periods and cues (for follow-ups and choices).
FILLER = word_set(
    """
    la bao nhieu cua xa phuong tinh thang quy nam nay truoc gi the nao o tai trong va co
    con thi sao vay ra cho biet hay minh toi em anh chi xin duoc khong nhe a oi voi dang
    hien hom qua bay gio so
    """
)


class MeasureReader(Reading):
    def measure(self, share: bool = False) -> tuple[str | None, list[Choice]]:
        """The code named, or the closest choices. ``share``: asked for a rate anyway."""
        found = self.longest(self.vocabulary.phrases)
        scattered = self.scattered_measure()
        if scattered is not None and (found is None or scattered[0] > found[0]):
            found = scattered
        if found is not None:
            _words, spans, code, phrase = found
            rate = self.rate_of(code, phrase, _extent(spans), share or self.asks_share())
            self.used.extend(spans)
            return rate or code, []
        if share or self.asks_share():
            rate_only = self.rate_named(None)
            if rate_only is not None:
                self.used.append(rate_only[1])
                return rate_only[0], []
        if self.by_meaning is not None and not (self.previous and self.has(cues.FOLLOW_UP)):
            meant = self.by_meaning(self.question)
            if meant is not None:
                self.notes.append(f"chỉ số được nhận ra theo nghĩa (độ tương đồng {meant[1]:.2f})")
                return meant[0], []
        return None, self.closest_measures()

    def longest(self, phrases: dict[str, list[str]]) -> Found | None:
        """The longest name found side by side (then the first): (its words, span, code)."""
        best: tuple[int, int, str, str] | None = None  # (-words, start, code, name)
        span = (0, 0)
        for phrase, codes in phrases.items():
            for match in cues.pattern(phrase).finditer(self.text):
                if not self.free(match.start(), match.end()):
                    continue
                candidate = (-cues.size(phrase), match.start(), codes[0], phrase)
                if best is None or candidate[:3] < best[:3]:
                    best, span = candidate, (match.start(), match.end())
        return (-best[0], [span], best[2], best[3]) if best else None

    def asks_share(self) -> bool:
        match = self.has(cues.RATE)
        return match is not None and self.free(match.start(), match.end())

    def rate_of(self, code: str, phrase: str, span: Span, share: bool) -> str | None:
        """The rate named by the same words as the count found ("hồ sơ trễ hạn … bao nhiêu
        phần trăm" is the rate of overdue dossiers), when the question asks for a share: "tỷ
        lệ" + that name, else a rate's name found among those words."""
        measure = self.vocabulary.measures[code]
        if not share or measure.unit_of_measure == "%":
            return None
        same = self.vocabulary.phrases.get(RATE_PREFIX + phrase.removeprefix("so "))
        if same:
            return same[0]
        named = self.rate_named(span)
        return named[0] if named else None

    def rate_named(self, within: Span | None) -> tuple[str, Span] | None:
        """A rate whose name, without "tỷ lệ", is in the question (overlapping ``within``
        when given): its code and the span of those words."""
        tails = {
            phrase[len(RATE_PREFIX) :]: codes
            for phrase, codes in self.vocabulary.phrases.items()
            if phrase.startswith(RATE_PREFIX)
        }
        found = self.longest(tails)
        if found is None:
            return None
        _words, spans, code, _phrase = found
        span = _extent(spans)
        if within is not None and not (span[0] < within[1] and within[0] < span[1]):
            return None
        return code, span

    def scattered_measure(self) -> Found | None:
        """A name whose words are all in the question, not side by side ("tỷ lệ phản ánh 1022
        xử lý đúng hạn" for "tỷ lệ phản ánh 1022 đúng hạn"): (its word count, the spans of its
        words, its code). Only words no other reading used count."""
        free: dict[str, int] = {}
        for start, word in zip(self.starts(), self.words, strict=True):
            if self.free(start, start + len(word.folded)):
                free.setdefault(word.folded, start)
        best: tuple[int, str, list[str], str] | None = None
        for phrase, codes in self.vocabulary.phrases.items():
            words = cues.content(phrase)
            longer = best is None or len(words) > best[0]
            if len(words) >= 3 and longer and all(w in free for w in words):
                best = (len(words), codes[0], words, phrase)
        if best is None:
            return None
        return best[0], [(free[w], free[w] + len(w)) for w in best[2]], best[1], best[3]

    def unread_words(self) -> list[str]:
        """Words of the question no reading used and that carry meaning."""
        unread = []
        for start, word in zip(self.starts(), self.words, strict=True):
            end = start + len(word.folded)
            if word.folded in FILLER or any(s <= start and end <= e for s, e in self.used):
                continue
            unread.append(word.folded)
        return unread

    def closest_measures(self) -> list[Choice]:
        asked = set(self.text.split()) - FILLER
        scored = []
        for code, measure in self.vocabulary.measures.items():
            names = [p for p, codes in self.vocabulary.phrases.items() if code in codes]
            overlap = max((len(asked & set(n.split())) / len(n.split()) for n in names), default=0)
            # Half a name's words; any shared word when the question names a unit or period
            # (it asks for a figure, just not one we know).
            if overlap >= (0.01 if self.used else 0.5):
                scored.append((-overlap, measure.is_element, measure.name, measure))
        scored.sort(key=lambda item: item[:3])
        return [Choice(m.name, f"{m.name} {self.rest()}".strip()) for *_, m in scored[:3]]

    def rest(self) -> str:
        """The question's units and periods, to ask again with a chosen indicator."""
        parts = []
        for start, end in sorted(self.used):
            first, last = self.word_at(start), self.word_at(end - 1)
            a, b = self.words[first].start, self.words[last].end
            parts.append(self.question[a:b])
        return " ".join(dict.fromkeys(parts))


def _extent(spans: list[Span]) -> Span:
    return min(s for s, _e in spans), max(e for _s, e in spans)
