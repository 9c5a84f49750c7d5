"""The demo's lab (rule R7): one lab runs the RT-PCR samples of every demo station, with
a capacity one step under the busiest day of the next 7, so that day (or the days tied
with it) shows over capacity on the station pages and the province overview.

The step is taken on the pools when their count varies over the week; when every day
has the same pools (each station pools some staff every day, as the demo's three-week
rosters do), the pools fit and the step is taken on the crews' single samples instead:
the demo's declared vessels, expected within hours, make their busiest day."""

from datetime import datetime

from django.utils import timezone

from crews.lab_load import lab_outlook
from crews.models import KcsStation, Lab
from portguard.demo.data import STATIONS

LAB_NAME = "CDC Quảng Ninh"
# Crews' single samples when the pools make the busy day: well within.
SINGLE_CAPACITY = 500


def _one_under_the_busiest(counts: list[int]) -> int:
    return max(max(counts) - 1, 0)


def seed_labs(now: datetime) -> None:
    if Lab.objects.filter(name=LAB_NAME).exists():
        return
    lab = Lab.objects.create(name=LAB_NAME, capacity_single=SINGLE_CAPACITY, capacity_pooled=0)
    KcsStation.objects.filter(code__in=[demo.code for demo in STATIONS], lab__isnull=True).update(lab=lab)
    days = lab_outlook(lab, timezone.localtime(now).date())
    pools = [day.pools for day in days]
    if len(set(pools)) > 1:
        lab.capacity_pooled = _one_under_the_busiest(pools)
    else:
        lab.capacity_pooled = pools[0]
        lab.capacity_single = _one_under_the_busiest([day.single for day in days])
    lab.save(update_fields=["capacity_pooled", "capacity_single"])
