"""Labelled pools (rule R7): a station's RT-PCR samples of a day, in the pools printed on
their labels and on the lab's manifest.

A day's pools are kept as they were first printed (``PooledSample``), not derived from
the schedule each time: the plan of a day moves with the roster, and the labels on the
tubes and the manifest the lab holds must not. The first print takes the schedule's
RT-PCRs of that day (the printed week's plan, from Monday) in its pools of at most
``PORTGUARD_POOL_SIZE``, in name order, as the schedule numbers them; a later print adds
pools for the people planned since and leaves every printed pool as it was.

IDs say where they come from and carry a check character (ISO 7064 MOD 37-2), so a
mistyped ID is refused rather than taken for another pool:

- pool ``<station code>-<YYYYMMDD>-P<nn>-<check>``, e.g. ``KCS-CP-03-20210809-P02-7``;
- sample ``<station code>-<YYYYMMDD>-P<nn>-<position>-<check>``.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from . import schedule, stations
from .models import KcsStation, PooledSample

CHECK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
POOL_ID = re.compile(r"^(?P<code>[A-Z0-9][A-Z0-9-]*)-(?P<day>\d{8})-P(?P<pool>\d{2,4})-(?P<check>[0-9A-Z*])$")
MANIFEST_COLUMNS = ("pool_id", "sample_id", "position", "id_number", "full_name", "date", "station")


def check_character(text: str) -> str:
    """ISO 7064 MOD 37-2 over the letters and digits of ``text``: any one character
    changed, or two neighbours swapped, gives another check character."""
    total = 0
    for char in text:
        if char in CHECK_ALPHABET[:36]:
            total = (total + CHECK_ALPHABET.index(char)) * 2 % 37
    return CHECK_ALPHABET[(38 - total) % 37]


def pool_id(code: str, day: date, pool: int) -> str:
    body = f"{code}-{day:%Y%m%d}-P{pool:02d}"
    return f"{body}-{check_character(body)}"


def sample_id(code: str, day: date, pool: int, position: int) -> str:
    body = f"{code}-{day:%Y%m%d}-P{pool:02d}-{position}"
    return f"{body}-{check_character(body)}"


def parse_pool_id(text: str) -> tuple[str, date, int] | None:
    """The station code, day and pool number of a printed pool's ID, or None if
    ``text`` is not shaped like one or its check character is wrong."""
    found = POOL_ID.match(text.strip().upper())
    if found is None or check_character(found.group(0)[:-2]) != found["check"]:
        return None
    try:
        day = datetime.strptime(found["day"], "%Y%m%d").date()  # noqa: DTZ007 - a calendar day, no time
    except ValueError:
        return None
    return found["code"], day, int(found["pool"])


@dataclass(frozen=True, slots=True)
class Sample:
    sample_id: str
    position: int
    person_id: int
    id_number: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Pool:
    pool_id: str
    number: int
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class DayPools:
    """A station's labelled pools of one day, in pool order."""

    station: KcsStation
    day: date
    pools: tuple[Pool, ...]

    def rows(self) -> list[dict]:
        """The manifest's rows, in ``MANIFEST_COLUMNS`` order."""
        return [
            {
                "pool_id": pool.pool_id,
                "sample_id": sample.sample_id,
                "position": sample.position,
                "id_number": sample.id_number,
                "full_name": sample.full_name,
                "date": self.day.isoformat(),
                "station": self.station.code,
            }
            for pool in self.pools
            for sample in pool.samples
        ]

    def json(self) -> bytes:
        return json.dumps(
            {
                "station": self.station.code,
                "date": self.day.isoformat(),
                "pools": [
                    {
                        "pool_id": pool.pool_id,
                        "samples": [
                            {
                                "sample_id": s.sample_id,
                                "position": s.position,
                                "id_number": s.id_number,
                                "full_name": s.full_name,
                            }
                            for s in pool.samples
                        ],
                    }
                    for pool in self.pools
                ],
            },
            ensure_ascii=False,
        ).encode()


def day_pools(user, station: KcsStation, day: date, now: datetime | None = None) -> DayPools:
    """The station's pools of ``day`` as printed, printing the people planned since the
    last print (or everyone, the first time) into new pools, attributed to ``user``.

    Reads the week's plan and the stored pools (five queries); a print that adds pools
    takes the station's lock, reads them again and stores the new ones (three more).
    The caller has checked that ``user`` may see the station.
    """
    now = now or timezone.now()
    monday = day - timedelta(days=day.weekday())
    plan = stations.plan_station(station, monday, 7, now)
    planned = [
        plan.staff[test[0]] for test in plan.planned if test[1] == day and test[3] == schedule.RT_PCR
    ]  # in name order, as the schedule numbers its pools
    stored = _stored(station, day)
    if {row.person_id for row in planned} - {row[2] for row in stored}:
        with transaction.atomic():
            KcsStation.objects.select_for_update().order_by().get(pk=station.pk)
            stored = _stored(station, day)
            printed = {row[2] for row in stored}
            new = [row for row in planned if row.person_id not in printed]
            size = stations.rules().pool_size
            first = max((row[0] for row in stored), default=0) + 1
            PooledSample.objects.bulk_create(
                PooledSample(
                    station=station,
                    date=day,
                    pool=first + index // size,
                    position=index % size + 1,
                    person_id=row.person_id,
                    printed_at=now,
                    printed_by=user,
                )
                for index, row in enumerate(new)
            )
            stored += [
                (first + index // size, index % size + 1, row.person_id, row.id_number, row.full_name)
                for index, row in enumerate(new)
            ]
    pools: dict[int, list[Sample]] = {}
    for number, position, person_id, id_number, full_name in sorted(stored):
        pools.setdefault(number, []).append(
            Sample(sample_id(station.code, day, number, position), position, person_id, id_number, full_name)
        )
    return DayPools(
        station,
        day,
        tuple(Pool(pool_id(station.code, day, number), number, tuple(samples)) for number, samples in pools.items()),
    )


def _stored(station: KcsStation, day: date) -> list[tuple[int, int, int, str, str]]:
    return list(
        PooledSample.objects.filter(station=station, date=day)
        .order_by()
        .values_list("pool", "position", "person_id", "person__id_number", "person__full_name")
    )


def printed_members(pool_ids: set[str]) -> dict[str, tuple[int, set[int]]]:
    """Each printed pool among ``pool_ids`` (as written), with its station's primary key
    and its members' people, in one query; IDs that name no printed pool are left out."""
    parsed = {text: found for text in pool_ids if (found := parse_pool_id(text))}
    if not parsed:
        return {}
    wanted = {(code, day, number): text for text, (code, day, number) in parsed.items()}
    members: dict[str, tuple[int, set[int]]] = {}
    for code, day, number, station_id, person_id in (
        PooledSample.objects.filter(
            station__code__in={code for code, _d, _n in wanted},
            date__in={day for _c, day, _n in wanted},
            pool__in={number for _c, _d, number in wanted},
        )
        .order_by()
        .values_list("station__code", "date", "pool", "station_id", "person_id")
    ):
        text = wanted.get((code, day, number))
        if text is not None:
            members.setdefault(text, (station_id, set()))[1].add(person_id)
    return members


def printed_pools(station: KcsStation, days: set[date]) -> dict[tuple[int, date], str]:
    """The printed pool ID of each person's sample on each of ``days``, in one query."""
    if not days:
        return {}
    return {
        (person_id, day): pool_id(station.code, day, number)
        for person_id, day, number in PooledSample.objects.filter(station=station, date__in=days)
        .order_by()
        .values_list("person_id", "date", "pool")
    }
