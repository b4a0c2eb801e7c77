"""The shared retry policy (lib/retry.py): attempt budget, capped backoff, Meta's delay."""

import random

import pytest

from lib.retry import EVENT_POLICY, MEDIA_POLICY, SEND_POLICY, RetryPolicy

STEADY = RetryPolicy(max_attempts=4, base_seconds=10, max_seconds=60, jitter=0)
JITTERY = RetryPolicy(max_attempts=4, base_seconds=10, max_seconds=60, jitter=0.5)


@pytest.mark.parametrize(("attempts", "allowed"), [(0, True), (1, True), (3, True),
                                                    (4, False), (5, False)])
def test_can_retry_until_max_attempts(attempts, allowed):
    assert STEADY.can_retry(attempts) is allowed


@pytest.mark.parametrize(("policy", "last_allowed"), [
    (SEND_POLICY, 7), (EVENT_POLICY, 5), (MEDIA_POLICY, 4)])
def test_shared_policies_budgets(policy, last_allowed):
    assert policy.can_retry(last_allowed)
    assert not policy.can_retry(last_allowed + 1)


@pytest.mark.parametrize(("attempts", "seconds"), [
    (0, 10), (1, 10), (2, 20), (3, 40), (4, 60), (5, 60), (50, 60)])
def test_backoff_doubles_up_to_the_cap(attempts, seconds):
    assert STEADY.delay(attempts) == seconds


def test_cap_holds_for_absurd_attempt_counts():
    policy = RetryPolicy(max_attempts=3, base_seconds=0.5, max_seconds=90, jitter=0.5)
    assert policy.delay(5000, rng=random.Random(1)) <= 90
    assert RetryPolicy(3, 0.5, 90, jitter=0).delay(5000) == 90


@pytest.mark.parametrize("retry_after", [3, 7.5, 86400])
@pytest.mark.parametrize("policy", [STEADY, JITTERY])
def test_retry_after_wins_over_backoff_and_cap(policy, retry_after):
    rng = random.Random(3)
    assert policy.delay(3, retry_after=retry_after, rng=rng) == float(retry_after)
    assert rng.random() == random.Random(3).random()  # no jitter drawn


@pytest.mark.parametrize("retry_after", [None, 0])
def test_no_retry_after_falls_back_to_backoff(retry_after):
    assert STEADY.delay(2, retry_after=retry_after) == 20


@pytest.mark.parametrize("seed", range(20))
def test_jitter_stays_within_its_band_and_the_cap(seed):
    assert 5 <= JITTERY.delay(1, rng=random.Random(seed)) <= 15
    assert 20 <= JITTERY.delay(3, rng=random.Random(seed)) <= 60
    assert 30 <= JITTERY.delay(6, rng=random.Random(seed)) <= 60


def test_jitter_is_reproducible_with_a_seeded_rng():
    first = [JITTERY.delay(2, rng=random.Random(42)) for _ in range(3)]
    assert len(set(first)) == 1
    spread = {JITTERY.delay(2, rng=random.Random(seed)) for seed in range(10)}
    assert len(spread) > 1
    assert min(spread) >= 10 and max(spread) <= 30
