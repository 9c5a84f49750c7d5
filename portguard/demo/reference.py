"""Reference data, looked up by natural key and created when missing: wharves, users (with
their roles and wharves), vessels and epidemic areas."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError
from django.utils import timezone

from portguard.demo.data import EPIDEMIC_AREAS, USERS, VESSELS, WHARVES
from portguard.demo.report import DemoUserResult, SeedReport
from vessels.areas import AreaData, add_epidemic_area
from vessels.models import EpidemicArea, Vessel, Wharf


def seed_wharves(report: SeedReport) -> dict[str, tuple[Wharf, bool]]:
    wharves = {}
    for order, demo in enumerate(WHARVES, start=1):
        wharf, created = Wharf.objects.get_or_create(
            code=demo.code,
            defaults={
                "name": demo.name,
                "locality": demo.locality,
                "kind": demo.kind,
                "operator": demo.operator,
                "route_order": order * 10,
            },
        )
        wharves[demo.code] = (wharf, created)
        report.wharves_created += created
    return wharves


def seed_users(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], password: str) -> dict:
    groups = {group.name: group for group in Group.objects.filter(name__in=[u.role for u in USERS])}
    missing = sorted({u.role for u in USERS} - set(groups))
    if missing:
        raise CommandError(f"Roles {', '.join(missing)} are missing: run `manage.py migrate` first.")
    User = get_user_model()
    users = {}
    for demo in USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={"first_name": demo.first_name, "last_name": demo.last_name, "is_staff": demo.is_staff},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(groups[demo.role])
        # Assign only what is new on either side, so an administrator's later changes stand.
        for wharf, wharf_created in wharves.values():
            if wharf.locality in demo.localities and (created or wharf_created):
                wharf.inspectors.add(user)
        users[demo.username] = user
        report.users.append(DemoUserResult(user, demo.role, created))
    return users


def seed_vessels(report: SeedReport) -> None:
    for demo in VESSELS:
        _vessel, created = Vessel.objects.get_or_create(
            registration=demo.registration,
            defaults={
                "name": demo.name,
                "kind": demo.kind,
                "owner": demo.owner,
                "capacity_tonnes": None if demo.capacity_tonnes is None else Decimal(demo.capacity_tonnes),
            },
        )
        report.vessels_created += created


def seed_epidemic_areas(report: SeedReport, health, now: datetime) -> None:
    for province, district, days in EPIDEMIC_AREAS:
        if EpidemicArea.objects.filter(province=province, district=district).exists():
            continue
        since = timezone.localdate(now) - timedelta(days=days)
        add_epidemic_area(health, AreaData(province=province, district=district, active_from=since))
        report.epidemic_areas_created += 1
