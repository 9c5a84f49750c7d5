"""The header's search: vessels by registration or name, people by name (with or
without diacritics) or ID number, each kind in one query on an indexed column,
limited to what the user could open anyway."""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from crews.models import Person, normalise_id_number
from crews.scope import visible_people
from portguard.collation import fold_name

from .models import Vessel, normalise_registration

SHOWN = 20  # results of each kind on the page
MIN_LENGTH = 2  # fewer characters would match half the province
MAX_LENGTH = 100
ID_PREFIX_LENGTH = 6  # "022" alone is every CCCD of Quảng Ninh


@dataclass
class SearchResults:
    query: str
    vessels: list[Vessel] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    more_vessels: bool = False
    more_people: bool = False
    too_short: bool = False


def _name_matches(folded: str) -> Q:
    """The folded name starts with the words asked for, or one of its words does
    (*hung* finds *Nguyễn Văn Hùng*)."""
    return Q(name_folded__startswith=folded) | Q(name_folded__contains=" " + folded)


def people_matching(user, query: str) -> QuerySet[Person]:
    """The people ``user`` may read (``visible_people``) whose name matches ``query``
    (folded) or whose ID number does (whole, or from its first 6 characters); unordered.
    ``query`` must fold to ``MIN_LENGTH`` characters or more."""
    query = " ".join(query.split())[:MAX_LENGTH]
    id_number = normalise_id_number(query)
    by_number = Q(id_number__startswith=id_number) if len(id_number) >= ID_PREFIX_LENGTH else Q(id_number=id_number)
    return visible_people(user).filter(_name_matches(fold_name(query)) | by_number)


def search(user, query: str, shown: int = SHOWN) -> SearchResults:
    """Vessels the user may open (every vessel, for a role that reads vessels) and
    people whose history they may read (``visible_people``); ``shown`` of each at most,
    by name. One query per kind."""
    query = " ".join(query.split())[:MAX_LENGTH]
    folded = fold_name(query)
    results = SearchResults(query)
    if len(folded) < MIN_LENGTH:
        results.too_short = bool(folded)
        return results
    if user.has_perm("vessels.view_vessel"):
        registration = normalise_registration(query)
        found = list(
            Vessel.objects.filter(_name_matches(folded) | Q(registration__contains=registration)).order_by(
                "registration"
            )[: shown + 1]
        )
        results.vessels, results.more_vessels = found[:shown], len(found) > shown
    found = list(people_matching(user, query).order_by("name_folded", "id_number")[: shown + 1])
    results.people, results.more_people = found[:shown], len(found) > shown
    return results
