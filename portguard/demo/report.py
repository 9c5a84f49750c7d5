"""What a run of the demo created, and what it found already there."""

from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser


@dataclass
class DemoUserResult:
    user: AbstractBaseUser
    role: str
    created: bool


@dataclass
class SeedReport:
    wharves_created: int = 0
    vessels_created: int = 0
    port_calls_created: int = 0
    port_calls_skipped: int = 0
    stations_created: int = 0
    stations_rostered: int = 0
    stations_skipped: int = 0
    epidemic_areas_created: int = 0
    declarations_created: int = 0
    users: list[DemoUserResult] = field(default_factory=list)
