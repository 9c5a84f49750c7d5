"""Django's database sessions, except that a lost database stays a lost database.

Django turns any database error while updating a session into ``UpdateError``, which
``SessionMiddleware`` answers with a 400 saying the session was deleted. When the
database could not be reached, the caller should hear that instead: a 503 with
Retry-After (``portguard.middleware.server_error``).
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError

from .middleware import is_database_unavailable


class SessionStore(db.SessionStore):
    def save(self, must_create=False):
        try:
            return super().save(must_create=must_create)
        except UpdateError as error:
            cause = error.__context__
            if cause is not None and is_database_unavailable(cause):
                raise cause from None
            raise
