"""The delivery rules, without any I/O: what to retry, when, and what to give up on."""

from __future__ import annotations

from collections.abc import Generator

import httpx
import pytest

from streamgauge_client import DeliveryError, RetryPolicy
from streamgauge_client._delivery import (
    Action,
    Outcome,
    Reply,
    Reporter,
    Send,
    Wait,
    classify,
    deliver,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (400, Outcome.TERMINAL),
        (401, Outcome.TERMINAL),
        (403, Outcome.TERMINAL),
        (404, Outcome.TERMINAL),
        (408, Outcome.RETRY),
        (413, Outcome.SPLIT),
        (422, Outcome.TERMINAL),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-1") == 0.0
    now = 1_759_492_800.0  # Fri, 03 Oct 2025 12:00:00 GMT
    assert parse_retry_after("Fri, 03 Oct 2025 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=0.2, backoff_max=5.0)
    for attempt, ceiling in [(0, 0.2), (1, 0.4), (2, 0.8), (3, 1.6), (10, 5.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_retry_after_wins_over_backoff_and_is_never_shortened() -> None:
    policy = RetryPolicy(backoff_base=0.2, max_retry_after=60)
    assert all(2.0 <= policy.delay(0, 2.0) <= 2.2 for _ in range(50))
    assert all(60.0 <= policy.delay(0, 3600.0) <= 61.0 for _ in range(50))


def events(n: int) -> list[dict[str, object]]:
    return [{"id": str(i), "event": "e"} for i in range(n)]


def drive(plan: Generator[Action, Reply, None], replies: list[Reply | int]) -> list[Action]:
    """Run a plan with scripted replies (an int is a response with that status)."""
    actions = [next(plan)]
    for reply in replies:
        answer = httpx.Response(reply) if type(reply) is int else reply
        try:
            actions.append(plan.send(answer))
        except StopIteration:
            break
    return actions


def plan_for(n: int, reporter: Reporter, **policy: float) -> Generator[Action, Reply, None]:
    return deliver(
        events(n),
        policy=RetryPolicy(**policy),  # type: ignore[arg-type]
        reporter=reporter,
        encode=lambda batch: ",".join(str(e["id"]) for e in batch).encode(),
    )


def test_transient_failures_are_retried_then_delivered() -> None:
    reporter = Reporter(None)
    network_down = httpx.ConnectError("refused")
    actions = drive(plan_for(3, reporter), [503, False, network_down, False, 200])
    assert [type(a) for a in actions] == [Send, Wait, Send, Wait, Send]
    assert (reporter.sent, reporter.retried, reporter.failed) == (3, 2, 0)


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    reporter = Reporter(None)
    too_many = httpx.Response(429, headers={"Retry-After": "7"})
    actions = drive(plan_for(1, reporter), [too_many])
    assert isinstance(actions[1], Wait) and 7.0 <= actions[1].seconds <= 7.7


def test_a_terminal_answer_fails_the_batch_without_retrying() -> None:
    errors: list[DeliveryError] = []
    reporter = Reporter(errors.append)
    refusal = httpx.Response(400, json={"error": {"code": "invalid", "message": "no events"}})
    actions = drive(plan_for(4, reporter), [refusal])
    assert len(actions) == 1
    assert (reporter.sent, reporter.failed) == (0, 4)
    assert errors[0].status_code == 400 and errors[0].event_count == 4
    assert errors[0].message == "server refused 4 events: HTTP 400: no events"


def test_413_splits_the_batch_until_it_fits() -> None:
    reporter = Reporter(None)
    plan = plan_for(4, reporter)
    bodies = [next(plan)]
    for status in [413, 200, 200]:  # 4 too large; then 2 + 2 fit
        try:
            bodies.append(plan.send(httpx.Response(status)))
        except StopIteration:
            break
    assert [a.body for a in bodies if isinstance(a, Send)] == [b"0,1,2,3", b"0,1", b"2,3"]
    assert (reporter.sent, reporter.failed) == (4, 0)


def test_a_single_event_too_large_fails_alone() -> None:
    reporter = Reporter(None)
    drive(plan_for(1, reporter), [413])
    assert (reporter.sent, reporter.failed) == (0, 1)


def test_retries_are_bounded() -> None:
    errors: list[DeliveryError] = []
    reporter = Reporter(errors.append)
    drive(plan_for(2, reporter, max_retries=2), [503, False, 503, False, 503])
    assert (reporter.retried, reporter.failed) == (2, 2)
    assert errors[0].message == "gave up after 3 attempts: HTTP 503"
    assert errors[0].retryable


def test_giving_up_during_shutdown_fails_what_is_left() -> None:
    reporter = Reporter(None)
    drive(plan_for(5, reporter), [503, True])
    assert (reporter.sent, reporter.failed) == (0, 5)


def test_events_the_server_rejects_one_by_one_are_counted_and_reported() -> None:
    errors: list[DeliveryError] = []
    reporter = Reporter(errors.append)
    partial = httpx.Response(
        200,
        json={"accepted": 2, "duplicates": 0, "rejected": 1,
              "errors": [{"index": 1, "field": "event", "message": "required"}]},
    )  # fmt: skip
    drive(plan_for(3, reporter), [partial])
    assert (reporter.sent, reporter.rejected) == (2, 1)
    assert errors[0].details == [{"index": 1, "field": "event", "message": "required"}]


def test_an_on_error_callback_that_raises_is_logged_not_propagated() -> None:
    def broken(error: DeliveryError) -> None:
        raise RuntimeError("bug in the app's callback")

    reporter = Reporter(broken)
    drive(plan_for(1, reporter), [400])
    assert reporter.failed == 1
