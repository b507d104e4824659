"""`lakegate up`'s supervisor backs off a crash loop, and forgets the back-off once a child ran a while."""

from __future__ import annotations

from lakegate_server.supervisor import Supervisor


def test_a_crash_loop_backs_off_and_a_stable_child_restarts_at_once():
    sup = Supervisor({"worker-1": ["true"]}, env={}, stable_seconds=10)
    assert [sup.restart_delay("worker-1", lived=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    # it then ran for a minute before it was killed: a crash, not a loop
    assert sup.restart_delay("worker-1", lived=60) == 1
    assert sup.restart_delay("worker-1", lived=1) == 2
    assert sup.restart_delay("scheduler", lived=1) == 1  # each child has its own back-off
