"""Who gets a conversation (lib/routing.py): sticky agents first, then the team's rule."""

import pytest

from lib.routing import LEAST_LOADED, MANUAL, ROUND_ROBIN, Agent, Choice, pick_agent


def agent(agent_id, available=True, open_count=0):
    return Agent(id=agent_id, available=available, open_count=open_count)


A1, A2, A3, A4 = agent(1), agent(2), agent(3), agent(4)
TEAM = [A1, A2, A3, A4]


def pick(method=ROUND_ROBIN, members=TEAM, sticky=(), current=None, **kwargs):
    return pick_agent(method=method, members=members, sticky=sticky, current=current, **kwargs)


# ---------------------------------------------------------------- sticky

@pytest.mark.parametrize("method", [ROUND_ROBIN, LEAST_LOADED])
def test_first_eligible_sticky_agent_wins_and_keeps_the_turn(method):
    assert pick(method, sticky=[A3, A2], round_robin_index=1) == Choice(3, None)


@pytest.mark.parametrize("skipped", [
    agent(3, available=False),
    agent(3, open_count=5),  # at the cap of 5
    agent(9),  # not a member of the team
])
def test_sticky_agent_skipped_for_the_next_sticky(skipped):
    assert pick(sticky=[skipped, A2], max_open=5) == Choice(2, None)


def test_ineligible_sticky_falls_back_to_the_team_rule():
    choice = pick(sticky=[agent(9)], round_robin_index=2)
    assert choice == Choice(3, 3)


def test_no_cap_when_max_open_is_zero():
    assert pick(sticky=[agent(3, open_count=500)], max_open=0) == Choice(3, None)


def test_below_the_cap_is_eligible():
    assert pick(sticky=[agent(3, open_count=4)], max_open=5) == Choice(3, None)


# ---------------------------------------------------------------- manual

@pytest.mark.parametrize(("current", "chosen"), [
    (agent(2), 2),
    (agent(2, available=False), None),
    (None, None),
])
def test_manual_keeps_the_available_current_agent(current, chosen):
    # Manual teams never auto-assign, not even to an eligible sticky agent.
    assert pick(MANUAL, sticky=[A3], current=current) == Choice(chosen, None)


# ---------------------------------------------------------------- least loaded

def test_least_loaded_picks_the_lowest_count_ties_by_id():
    members = [agent(5, open_count=2), agent(4, open_count=1), agent(2, open_count=1),
               agent(3, open_count=0, available=False)]
    assert pick(LEAST_LOADED, members=members) == Choice(2, None)


def test_least_loaded_skips_agents_at_the_cap():
    members = [agent(1, open_count=3), agent(2, open_count=4)]
    assert pick(LEAST_LOADED, members=members, max_open=4) == Choice(1, None)
    assert pick(LEAST_LOADED, members=members, max_open=3) == Choice(None, None)


# ---------------------------------------------------------------- round robin

@pytest.mark.parametrize(("index", "chosen", "next_index"), [
    (0, 1, 1), (1, 2, 2), (3, 4, 4), (4, 1, 5), (6, 3, 7)])
def test_round_robin_takes_turns(index, chosen, next_index):
    assert pick(round_robin_index=index) == Choice(chosen, next_index)


def test_round_robin_skips_ineligible_members():
    members = [A1, agent(2, available=False), agent(3, open_count=2), A4]
    # The turn is agent 2's (unavailable), then agent 3's (at the cap): agent 4 answers
    # and the next turn is the one after agent 4's.
    assert pick(members=members, round_robin_index=1, max_open=2) == Choice(4, 4)
    # Index 4 wraps around to agent 1.
    assert pick(members=members, round_robin_index=4, max_open=2) == Choice(1, 5)


def test_round_robin_consecutive_turns_spread_the_work():
    index, chosen = 0, []
    for _ in range(5):
        choice = pick(members=[A1, agent(2, available=False), A3], round_robin_index=index)
        chosen.append(choice.agent_id)
        index = choice.next_round_robin_index
    assert chosen == [1, 3, 1, 3, 1]


@pytest.mark.parametrize("method", [ROUND_ROBIN, LEAST_LOADED])
def test_nobody_eligible_goes_to_the_queue(method):
    members = [agent(1, available=False), agent(2, open_count=9)]
    assert pick(method, members=members, max_open=9) == Choice(None, None)
    assert pick(method, members=[]) == Choice(None, None)


# ---------------------------------------------------------------- no team

@pytest.mark.parametrize("method", [ROUND_ROBIN, MANUAL])
def test_without_a_team_only_sticky_agents(method):
    outsider = agent(9)
    assert pick(method, members=[], sticky=[agent(8, available=False), outsider],
                in_team=False) == Choice(9, None)
    assert pick(method, members=[], sticky=[agent(8, available=False)], current=A1,
                in_team=False) == Choice(None, None)


def test_without_a_team_the_cap_still_applies():
    assert pick(members=[], sticky=[agent(9, open_count=3)], max_open=3,
                in_team=False) == Choice(None, None)
