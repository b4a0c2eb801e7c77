"""Which agent gets a conversation: sticky candidates first, then the team's rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"
MANUAL = "manual"


@dataclass(frozen=True)
class Agent:
    id: int
    available: bool
    open_count: int = 0


@dataclass(frozen=True)
class Choice:
    agent_id: int | None  # None: the team's queue
    next_round_robin_index: int | None = None  # set when the turn moved


def pick_agent(*, method: str, members: Sequence[Agent], sticky: Sequence[Agent],
               current: Agent | None, max_open: int = 0, round_robin_index: int = 0,
               in_team: bool = True) -> Choice:
    """The agent for one conversation.

    ``members`` are the team's internal, active members in a stable order;
    ``sticky`` the lead's salesperson, the contact's, then the current assignee.
    Without a team (``in_team`` False) any available sticky agent is eligible.
    """
    if in_team and method == MANUAL:
        return Choice(current.id if current and current.available else None)
    member_ids = {agent.id for agent in members}

    def eligible(agent: Agent) -> bool:
        return (
            agent.available
            and (not in_team or agent.id in member_ids)
            and (not max_open or agent.open_count < max_open)
        )

    for agent in sticky:
        if eligible(agent):
            return Choice(agent.id)
    pool = [agent for agent in members if eligible(agent)]
    if not pool:
        return Choice(None)
    if method == LEAST_LOADED:
        return Choice(min(pool, key=lambda agent: (agent.open_count, agent.id)).id)
    pool_ids = {agent.id for agent in pool}
    size = len(members)
    offset = next(step for step in range(size)
                  if members[(round_robin_index + step) % size].id in pool_ids)
    chosen = members[(round_robin_index + offset) % size]
    return Choice(chosen.id, round_robin_index + offset + 1)
