"""Domain exceptions; forum/error_pages.py turns them into a French page or a JSON error."""
from __future__ import annotations

from forum.i18n import N_


class ForumError(Exception):
    """Base class: an HTTP status, a machine code and a message for the user (msgid)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


class BadRequest(ForumError):
    status, code = 400, "bad_request"


class Unauthorized(ForumError):
    status, code = 401, "unauthorized"


class Forbidden(ForumError):
    status, code = 403, "forbidden"


class NotFound(ForumError):
    status, code = 404, "not_found"


class Conflict(ForumError):
    status, code = 409, "conflict"


class TooLarge(ForumError):
    status, code = 413, "too_large"


class Invalid(ForumError):
    """A field's value is wrong: `field` names it so forms can show the message beside it."""

    status, code = 422, "invalid"


class UnknownReference(Invalid):
    """A field names something that does not exist, or that the member may not see: a form
    shows it beside the field (422); the API answers 404, as for a path naming nothing."""

    api_status, api_code = 404, "not_found"


class Contradiction(Invalid):
    """A well-formed value that contradicts another field or what is recorded (a reply dated
    before the request was sent): a form shows it beside the field (422); the API answers 409,
    since no schema of the request alone can tell it."""

    api_status, api_code = 409, "conflict"


class TooManyRequests(ForumError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str = "", retry_after: int = 60, field: str | None = None,
                 **params: object) -> None:
        super().__init__(message, field, **params)
        self.retry_after = retry_after


class Unavailable(ForumError):
    """503: the site cannot do this now (its disk is full or failing); nothing was saved."""

    status, code = 503, "unavailable"
    retry_after = 60


class TooSlow(Unavailable):
    """503: a read went past its time budget (a search too broad for a busy site)."""

    code = "too_slow"
    retry_after = 10

    def __init__(self, message: str = "", field: str | None = None, **params: object) -> None:
        super().__init__(message or N_("This takes too long right now. Please try again in a"
                                       " moment."), field, **params)
