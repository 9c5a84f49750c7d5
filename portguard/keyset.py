"""Keyset (cursor) pagination for the API's lists: a page is the rows after the last
one the client has, in a total order ending with the primary key, so a row inserted
meanwhile never shifts a page nor repeats a row. The cursor is opaque to clients
(base64 of the last row's keys); a cursor that is not one answers 400 naming it."""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import serializers

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode(values: Sequence) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, kinds: Sequence[type]) -> list:
    """The keys a cursor carries, each of the kind expected, or a 400 naming ``cursor``."""
    bad = serializers.ValidationError({"cursor": [_("Not a cursor this list gave.")]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise bad
    out = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is datetime:
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None or value.tzinfo is None:
                raise bad
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
                raise bad
        elif not isinstance(value, kind):
            raise bad
        out.append(value)
    return out


def after(rows: QuerySet, keys: Sequence[str], values: Sequence) -> QuerySet:
    """``rows`` past ``values`` in the order of ``keys`` (``-`` for descending), the
    lexicographic condition written out so that it works on every database."""
    condition = Q()
    for i, key in enumerate(keys):
        name = key.lstrip("-")
        step = Q(**{f"{name}__{'lt' if key.startswith('-') else 'gt'}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            step &= Q(**{earlier.lstrip("-"): value})
        condition |= step
    return rows.filter(condition)


class PageParams(serializers.Serializer):
    """The parameters every list takes."""

    cursor = serializers.CharField(required=False, max_length=400, help_text="The `next` of the previous page")
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="Rows a page, at most 500"
    )


def page_of(rows: QuerySet, keys: Sequence[str], kinds: Sequence[type], cursor: str | None, limit: int):
    """One page of ``rows`` (ordered by ``keys``) and the cursor of the next page, or
    ``None`` after the last. One query."""
    rows = rows.order_by(*keys)
    if cursor:
        rows = after(rows, keys, decode(cursor, kinds))
    found = list(rows[: limit + 1])
    page = found[:limit]
    more = len(found) > limit
    next_cursor = encode([_value(page[-1], key.lstrip("-")) for key in keys]) if more else None
    return page, next_cursor


def _value(row, path: str):
    for part in path.split("__"):
        row = getattr(row, part)
    return row
