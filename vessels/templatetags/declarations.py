"""``{% expected_arrivals wharf as rows %}``: the wharf's declared vessels not yet arrived
(rule R6), with who is flagged, for the wharf dashboard; the page's script adds the
declarations received while it is open."""

from django import template

from vessels.declarations import DeclarationFlags
from vessels.declarations import expected_arrivals as read_expected_arrivals
from vessels.models import Wharf

register = template.Library()


@register.simple_tag
def expected_arrivals(wharf: Wharf) -> list[DeclarationFlags]:
    return read_expected_arrivals([wharf])
