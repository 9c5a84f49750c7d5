"""Errors raised by the domain layer, shared by every entry point.

Views, the API, uploads and commands translate them into their own answers (a message
on a page, a JSON error with a status code, a line on stderr).
"""


class DomainError(Exception):
    """A request the rules refuse. ``code`` is stable; ``message`` is for people."""

    code = "invalid"
    status = 400
    #: When one entry of several written together is refused (a result of a screening
    #: sheet), that entry: a page shows the refusal where the entry is.
    entry = None

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class HandoverBlocked(DomainError):
    code = "handover_blocked"
    status = 409

    def __init__(self, message: str, blocking: list[dict]):
        super().__init__(message)
        self.blocking = blocking


class InvalidFile(DomainError):
    """An uploaded file refused whole: ``rows`` names each problem as
    ``{"row": n, "column": "...", "message": "..."}``, rows numbered as in the spreadsheet."""

    code = "invalid_file"
    status = 400

    def __init__(self, message: str, rows: list[dict]):
        super().__init__(message)
        self.rows = rows
