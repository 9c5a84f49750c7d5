"""Vietnamese alphabetical order, for the lists people read by name (the printed
schedule): ``sorted(names, key=vietnamese_key)``.

Code-point order puts Đ after Z and Ă, Â, Ê, Ô, Ơ, Ư wherever their precomposed
forms fall. In the Vietnamese alphabet they are letters of their own, each right after
its base letter (a ă â b c d đ e ê … o ô ơ … u ư …), and tone marks decide only between
words that are otherwise the same, in the order ngang, huyền, hỏi, ngã, sắc, nặng
(as in CLDR's Vietnamese collation).

Folding (``fold_place``, ``fold_name``) is the other half: text without case or
diacritics, so that *nguyen van hung* finds *Nguyễn Văn Hùng*; ``FoldsNames`` keeps a
folded copy of a column beside it for the search to read with an index.
"""

import re
import unicodedata
from functools import lru_cache

from django.db.models import QuerySet

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


def fold_name(text: str) -> str:
    """A person's or a vessel's name as the search reads it: ``"Nguyễn  Văn Hùng"`` →
    ``"nguyen van hung"``, folded as places are."""
    return fold_place(text or "")


class FoldsNames:
    """A model mixin that keeps folded copies of text columns for searching:
    ``FOLDED`` maps each folded column to the column it is folded from. ``save`` folds
    (and saves the copy with its source when ``update_fields`` names it); the queryset
    below covers the paths that skip ``save``."""

    FOLDED: dict[str, str] = {}

    def fold(self) -> None:
        for folded, source in self.FOLDED.items():
            setattr(self, folded, fold_name(getattr(self, source)))

    def save(self, *args, **kwargs):
        self.fold()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                *(folded for folded, source in self.FOLDED.items() if source in update_fields),
            }
        super().save(*args, **kwargs)


class FoldingQuerySet(QuerySet):
    """``bulk_create``, ``bulk_update`` and ``update`` of a ``FoldsNames`` model keep its
    folded columns right too, so no way of writing a name leaves the search behind."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.fold()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.fold()
        folded = [f for f, source in self.model.FOLDED.items() if source in fields and f not in fields]
        return super().bulk_update(objs, [*fields, *folded], *args, **kwargs)

    def update(self, **kwargs):
        for folded, source in self.model.FOLDED.items():
            if source in kwargs and folded not in kwargs:  # bulk_update passes both
                if not isinstance(kwargs[source], str):
                    raise ValueError(f"{source} can only be updated to a plain text here, so that {folded} follows.")
                kwargs[folded] = fold_name(kwargs[source])
        return super().update(**kwargs)
