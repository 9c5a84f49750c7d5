"""KCS stations and their supervisors: Sơn supervises the Cẩm Phả station, Tuấn the
Hạ Long one (the outsider for Cẩm Phả). Rosters are loaded through the domain layer."""

import pytest

from crews.models import KcsStation
from crews.stations import create_station, load_roster
from portguard import roles
from tests.crews.helpers import roster_lines
from tests.helpers import make_user


@pytest.fixture
def other_supervisor(db):
    return make_user("tuan", roles.SUPERVISOR)


@pytest.fixture
def station(cam_pha, supervisor) -> KcsStation:
    return create_station(code="kcs-cp-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])


@pytest.fixture
def other_station(ha_long, other_supervisor) -> KcsStation:
    return create_station(code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[other_supervisor])


@pytest.fixture
def rostered(station, supervisor):
    """Load ``staff`` people working every day for ``days`` days from START."""

    def load(staff: int = 3, days: int = 7) -> KcsStation:
        load_roster(supervisor, station, roster_lines(staff, days))
        return station

    return load
