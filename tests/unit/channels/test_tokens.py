"""When a shop's access token is renewed, and what the status says when it cannot be."""

from datetime import UTC, datetime, timedelta

from baodan.channels.tokens import refresh_due, token_problem

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def test_a_token_is_renewed_an_hour_ahead_or_a_tenth_of_its_lifetime_if_shorter():
    assert refresh_due(NOW + timedelta(days=7), NOW) == NOW + timedelta(days=7) - timedelta(hours=1)
    assert refresh_due(NOW + timedelta(hours=2), NOW) == NOW + timedelta(hours=2) - timedelta(minutes=12)
    assert refresh_due(NOW + timedelta(seconds=30), NOW) == NOW + timedelta(seconds=27)


def test_a_token_of_unknown_expiry_or_saved_after_it_expired_has_no_margin():
    assert refresh_due(None, NOW) is None
    assert refresh_due(NOW, NOW + timedelta(hours=1)) == NOW
    assert refresh_due(NOW + timedelta(hours=1), None) == NOW + timedelta(hours=1)


def test_the_status_asks_to_re_authorise_only_once_the_token_cannot_be_renewed():
    assert token_problem(NOW + timedelta(days=1), None, now=NOW) is None
    assert token_problem(NOW - timedelta(days=1), NOW + timedelta(days=1), now=NOW) is None  # renewed when used
    soon = token_problem(NOW + timedelta(hours=5), NOW - timedelta(minutes=1), now=NOW)
    assert soon is not None and soon.startswith("re-authorise before 2026-12-03 17:00 (上海)")
    now = token_problem(NOW - timedelta(minutes=1), NOW - timedelta(minutes=1), now=NOW)
    assert now is not None and now.startswith("re-authorise: the access token has expired")
