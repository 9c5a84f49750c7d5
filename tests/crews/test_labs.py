"""Labs (rule R7): the administrator keeps them and their daily capacities, and assigns
each station to one, in the admin."""

import pytest
from django.urls import reverse

from crews.models import KcsStation, Lab
from crews.stations import create_station
from portguard import roles
from tests.helpers import make_user


@pytest.fixture
def admin_client(client, db):
    user = make_user("quantri", roles.ADMIN)
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client


def test_the_administrator_adds_a_lab_and_assigns_a_station_to_it(admin_client, cam_pha, django_assert_max_num_queries):
    response = admin_client.post(
        reverse("admin:crews_lab_add"), {"name": "CDC Quảng Ninh", "capacity_single": "400", "capacity_pooled": "120"}
    )
    assert response.status_code == 302
    lab = Lab.objects.get()
    assert (lab.capacity_single, lab.capacity_pooled) == (400, 120)
    station = create_station(code="KCS-L1", name="Trạm KCS L1", wharf=cam_pha)
    KcsStation.objects.filter(pk=station.pk).update(lab=lab)
    counts = []
    for n in (1, 4):
        for k in range(n):
            Lab.objects.create(name=f"Lab {n}-{k}", capacity_single=10, capacity_pooled=5)
        with django_assert_max_num_queries(7) as captured:
            listing = admin_client.get(reverse("admin:crews_lab_changelist"))
        assert listing.status_code == 200
        counts.append(len(captured.captured_queries))
        with django_assert_max_num_queries(8):
            stations = admin_client.get(reverse("admin:crews_kcsstation_changelist"))
        assert "CDC Quảng Ninh" in stations.content.decode()
    assert counts[0] == counts[1]
