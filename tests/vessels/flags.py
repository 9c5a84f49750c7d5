"""Reading the flags a page shows: the live dashboard's cards carry both chips and hide
the ones that do not apply, so their script can turn them as updates arrive."""

import re


def shown_flags(page: str, name: str) -> int:
    """How many ``name`` flag chips (``origin``, ``repeat``) the page shows, hidden ones not counted."""
    return sum(1 for tag in re.findall(rf'<span[^>]*data-flag="{name}"[^>]*>', page) if " hidden" not in tag)
