"""The demo's lab (rule R7): one lab runs the RT-PCR samples of every demo station, with
a capacity for pools one step under the busiest day of the next 7, so that day (or the
days tied with it) shows over capacity on the station pages and the province overview."""

from datetime import datetime

from django.utils import timezone

from crews.lab_load import lab_outlook
from crews.models import KcsStation, Lab
from portguard.demo.data import STATIONS

LAB_NAME = "CDC Quảng Ninh"
# Crews' single samples: well within (the demo's point is the pools).
SINGLE_CAPACITY = 500


def seed_labs(now: datetime) -> None:
    if Lab.objects.filter(name=LAB_NAME).exists():
        return
    lab = Lab.objects.create(name=LAB_NAME, capacity_single=SINGLE_CAPACITY, capacity_pooled=0)
    KcsStation.objects.filter(code__in=[demo.code for demo in STATIONS], lab__isnull=True).update(lab=lab)
    pools = sorted({day.pools for day in lab_outlook(lab, timezone.localtime(now).date())}, reverse=True)
    lab.capacity_pooled = pools[1] if len(pools) > 1 else max(pools[0] - 1, 0)
    lab.save(update_fields=["capacity_pooled"])
