"""Vietnamese alphabetical order, for the lists people read by name (the printed
schedule): ``sorted(names, key=vietnamese_key)``.

Code-point order puts Đ after Z and Ă, Â, Ê, Ô, Ơ, Ư wherever their precomposed
forms fall. In the Vietnamese alphabet they are letters of their own, each right after
its base letter (a ă â b c d đ e ê … o ô ơ … u ư …), and tone marks decide only between
words that are otherwise the same, in the order ngang, huyền, hỏi, ngã, sắc, nặng
(as in CLDR's Vietnamese collation).
"""

import re
import unicodedata
from functools import lru_cache

# Marks that make a letter of its own (breve, circumflex, horn) and the tone marks.
_LETTER_MARKS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


@lru_cache(maxsize=4096)
def vietnamese_key(text: str) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...], str]:
    """A sort key: letters with their own letter marks first, then tones, then the
    text itself so that the order is total."""
    letters: list[tuple[str, int]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", text.casefold()):
        if char in _LETTER_MARKS and letters:
            base, _mark = letters[-1]
            letters[-1] = (base, _LETTER_MARKS[char])
        elif char in _TONES:
            tones[-1:] = [_TONES[char]]
        elif not unicodedata.combining(char):
            # đ is not decomposed by Unicode: it is d with a mark of its own, after d.
            letters.append(("d", 4) if char == "đ" else (char, 0))
            tones.append(0)
    return tuple(letters), tuple(tones), text


def fold_place(text: str) -> str:
    """``"TP. Hải  Dương"`` → ``"tp. hai duong"``: lower case, without diacritics, one
    space between words. Đ/đ, which Unicode does not decompose, becomes d."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().casefold()
