"""The kit forecast (rule R7) for 20 stations of 500 staff and the 600 port calls of the
last 4 weeks at their 20 wharves, beside a floor measured in the same run: plain grouped
``COUNT``s over the same rows (the roster by station and day, the crews of the arrivals
by wharf, the kit records by place and lot, the declared people by wharf), one query
per table as the forecast's.

    python -m tests.bench.run [POSTGRES_SERVER_URL] --only forecast_bench   # this row alone
"""

from datetime import datetime, time, timedelta

STATIONS = 20
STAFF = 500
CALLS = 600
CREW = 10
DECLARED = 2  # declarations per wharf expected in the coming week, of CREW people each
REPEATS = 15
LOT = "QCO-BENCH-K"


def _scene():
    """The rows, bulk-created (the seed is not what is measured): per wharf a station,
    its staff on a rotating roster from a week before today to the forecast's horizon
    (one day off a week), a delivery of kits at every place and yesterday's rapid test
    of every staff member on duty; the port calls spread over the last 4 weeks with
    their crews; a few declarations expected. Returns the places and today."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crews import schedule
    from crews.kit_forecast import DAYS
    from crews.kit_stock import Place
    from crews.models import CrewMember, KitDelivery, Person, RosterEntry, ScreeningTest, StaffMember
    from crews.stations import create_station
    from portguard import roles
    from vessels.choices import Locality, WharfKind
    from vessels.models import Declaration, DeclaredPerson, PortCall, Vessel, Wharf

    user = User.objects.create_user("bench-kits")
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    first_day = today - timedelta(days=7)
    last_day = today + timedelta(days=DAYS + schedule.lookahead_days())
    wharves, stations = [], []
    for k in range(STATIONS):
        wharf = Wharf.objects.create(
            code=f"FB-{k:02d}", name=f"Bến dự báo {k}", locality=Locality.QUANG_YEN, kind=WharfKind.WHARF
        )
        wharves.append(wharf)
        stations.append(create_station(code=f"KCS-FB-{k:02d}", name=f"Trạm KCS dự báo {k}", wharf=wharf))
    people = Person.objects.bulk_create(
        Person(full_name=f"Nguyễn Văn {i}", id_kind="cccd", id_number=f"0230{i:08d}") for i in range(STATIONS * STAFF)
    )
    staff = StaffMember.objects.bulk_create(
        StaffMember(station=stations[i // STAFF], person=person, added_by=user) for i, person in enumerate(people)
    )
    shifts = {station.pk: list(station.shifts.order_by("starts_at")) for station in stations}
    entries, tests = [], []
    for i, member in enumerate(staff):
        for d in range((last_day - first_day).days):
            if (d + i) % 7 == 6:
                continue  # a day off a week, on a different weekday for each
            day = first_day + timedelta(days=d)
            shift = shifts[member.station_id][(i + d // 7) % 3]
            entries.append(RosterEntry(staff=member, date=day, shift=shift, loaded_by=user))
            if day == today - timedelta(days=1):
                tests.append(
                    ScreeningTest(
                        person=member.person,
                        station_id=member.station_id,
                        kind="rapid",
                        sampled_at=datetime.combine(day, shift.ends_at, tzinfo=tz),
                        result="negative",
                        recorded_by=user,
                        kit_lot=LOT,
                    )
                )
    RosterEntry.objects.bulk_create(entries, batch_size=5000)
    ScreeningTest.objects.bulk_create(tests, batch_size=5000)
    places = [Place(station=s) for s in stations] + [Place(wharf=w) for w in wharves]
    KitDelivery.objects.bulk_create(
        KitDelivery(
            **place.filter(),
            lot=LOT,
            expires_on=today + timedelta(days=180),
            quantity=2 * STAFF * DAYS if place.station else 400,
            received_by=user,
            received_at=now - timedelta(days=3),
        )
        for place in places
    )
    boats = Vessel.objects.bulk_create(Vessel(registration=f"QN-{60000 + i}") for i in range(CALLS))
    calls = PortCall.objects.bulk_create(
        PortCall(
            vessel=boat,
            wharf=wharves[i % STATIONS],
            arrived_at=now - timedelta(days=1 + i * 27 / CALLS, hours=i % 11),
            registered_by=user,
            departed_at=now - timedelta(days=i * 27 / CALLS, hours=i % 11),
        )
        for i, boat in enumerate(boats)
    )
    crew = Person.objects.bulk_create(
        Person(full_name=f"Trần Văn {i}", id_kind="cccd", id_number=f"0231{i:08d}") for i in range(CALLS * CREW)
    )
    CrewMember.objects.bulk_create(
        CrewMember(port_call=calls[i // CREW], person=person, added_by=user) for i, person in enumerate(crew)
    )
    declarations = Declaration.objects.bulk_create(
        Declaration(
            wharf=wharf,
            registration=f"QN-{40000 + k * DECLARED + j}",
            expected_at=datetime.combine(today + timedelta(days=1 + j), time(9), tzinfo=tz),
            declarant_name="Vũ Văn Hải",
            declarant_phone="0912345678",
            receipt_hash=f"bench-{k}-{j}",
            created_at=now,
        )
        for k, wharf in enumerate(wharves)
        for j in range(DECLARED)
    )
    DeclaredPerson.objects.bulk_create(
        DeclaredPerson(
            declaration=declaration, full_name=f"Người {n}", id_kind="cccd", id_number=f"0{n:11d}", role="crew"
        )
        for declaration in declarations
        for n in range(CREW)
    )
    return places, today


def _grouped_counts(places, today):
    """The floor: one grouped ``COUNT`` per table the forecast reads, over the same rows
    (the same filters), read to the end."""
    from django.db.models import Count, Q

    from crews import schedule
    from crews.kit_forecast import DAYS, WEEKS, _local_day_start
    from crews.models import KitDelivery, RosterEntry, ScreeningTest
    from vessels.models import Declaration, PortCall

    station_ids = [p.station.pk for p in places if p.station]
    wharf_ids = [p.wharf.pk for p in places if p.wharf]
    horizon = today + timedelta(days=DAYS + schedule.lookahead_days())

    def read():
        return [
            list(
                RosterEntry.objects.filter(staff__station_id__in=station_ids, date__gte=today, date__lt=horizon)
                .order_by()
                .values_list("staff__station_id", "date")
                .annotate(n=Count("id"))
            ),
            list(
                PortCall.objects.filter(
                    wharf_id__in=wharf_ids,
                    arrived_at__gte=_local_day_start(today - timedelta(weeks=WEEKS)),
                    arrived_at__lt=_local_day_start(today),
                )
                .order_by()
                .values_list("wharf_id")
                .annotate(n=Count("crew", filter=Q(crew__removed_at__isnull=True)))
            ),
            list(
                KitDelivery.objects.filter(Q(station_id__in=station_ids) | Q(wharf_id__in=wharf_ids))
                .order_by()
                .values_list("station_id", "wharf_id", "lot")
                .annotate(n=Count("id"))
            ),
            list(
                ScreeningTest.objects.filter(Q(station_id__in=station_ids) | Q(wharf_id__in=wharf_ids), kind="rapid")
                .order_by()
                .values_list("station_id", "wharf_id", "kit_lot")
                .annotate(n=Count("id"))
            ),
            list(
                Declaration.objects.filter(
                    wharf_id__in=wharf_ids,
                    port_call__isnull=True,
                    expected_at__gte=_local_day_start(today),
                    expected_at__lt=_local_day_start(today + timedelta(days=DAYS)),
                )
                .order_by()
                .values_list("wharf_id")
                .annotate(n=Count("people"))
            ),
        ]

    return read


def run() -> list[dict]:
    from django.db import connection

    from crews.kit_forecast import forecast
    from tests.bench.live_delivery import latency_row
    from tests.bench.schedule_bench import _timed

    places, today = _scene()

    def forecast_all():
        outlook = forecast(places, today)
        assert len(outlook) == len(places)
        return outlook

    sent = []
    with connection.execute_wrapper(lambda execute, *args: sent.append(args[0]) or execute(*args)):
        outlook = forecast_all()
    needed = sum(f.total_need for f in outlook.values())
    size = f"{STATIONS} stations × {STAFF} staff, {CALLS} port calls"
    return [
        latency_row(
            f"kit forecast, 7 days, {size} ({needed} kits needed)",
            *_timed(forecast_all, _grouped_counts(places, today)),
            floor_name="plain grouped COUNTs of the same rows (roster, crews, kit records, declarations)",
        ),
        {"name": f"kit forecast, {size}: queries", "value": len(sent), "unit": ""},
    ]
