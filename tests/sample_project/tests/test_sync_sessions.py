"""Sync sessions: lazy loads work there; a read after the session closed does not."""

from bookshop import services


def test_sync_summary(sync_sessions):
    assert services.sync_summary(sync_sessions, 1) == "Book 1: 2 reviews"


def test_sync_review_counts(sync_sessions):
    assert services.sync_review_counts(sync_sessions) == {"Ursula": 4, "Octavia": 2}
