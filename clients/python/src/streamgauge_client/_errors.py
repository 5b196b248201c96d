"""The one exception type: a delivery problem, given to ``on_error``, never raised at the caller."""

from __future__ import annotations

from typing import Any


class DeliveryError(Exception):
    """Some events could not be delivered (or were dropped before delivery).

    ``event_count`` says how many; ``status_code`` is the server's answer when there was one;
    ``retryable`` is ``False`` for terminal problems (the server refused the events as invalid).
    """

    def __init__(
        self,
        message: str,
        *,
        event_count: int,
        status_code: int | None = None,
        retryable: bool = False,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.event_count = event_count
        self.status_code = status_code
        self.retryable = retryable
        self.details = details

    def __repr__(self) -> str:
        return (
            f"DeliveryError({self.message!r}, event_count={self.event_count}, "
            f"status_code={self.status_code})"
        )
