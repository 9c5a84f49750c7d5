"""A person's history page: what ``crews.history`` reads, within the reader's scope."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from portguard.pages import page

from .access_log import door_of, record_read
from .choices import ReadKind
from .history import person_history
from .scope import visible_people


@login_required
def person(request, pk: int):
    # Out of scope and unknown look the same (404), as for a port call.
    found = get_object_or_404(visible_people(request.user), pk=pk)
    history = person_history(request.user, found)
    record_read(request.user, ReadKind.PERSON, **door_of(request), person=found)
    return page(request, "crews/person.html", {"history": history})
