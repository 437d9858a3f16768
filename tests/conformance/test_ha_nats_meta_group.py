"""The HA check of NATS's JetStream meta group, on the /jsz views the three servers of a fresh `gke`
install on kind answered (2026-12-06, NATS 2.10.26): once with one server left out of the group,
once after that server's pod was deleted and the leader added it."""

from dynamo_harness.ha.shape import HaRelease

SERVERS = [f"dynamo-platform-nats-{i}" for i in range(3)]
LEADER = SERVERS[0]


class RecordedNats(HaRelease):
    """An HaRelease whose NATS servers answer recorded /jsz views, routes all up."""

    def __init__(self, meta: dict[str, dict]):
        super().__init__(kubectl=None, namespace="ha-gke")  # type: ignore[arg-type] - nothing here calls kubectl
        self.meta = meta

    def pods(self, component: str) -> list[dict]:
        return [{"metadata": {"name": name}} for name in SERVERS]

    def nats_routes(self) -> dict[str, list[str]]:
        return {name: sorted(set(SERVERS) - {name}) for name in SERVERS}

    def nats_monitor(self, pod: str, path: str) -> dict:
        return {"meta_cluster": self.meta[pod]}


def follower(size: int) -> dict:
    return {"name": "dynamo-platform-nats", "leader": LEADER, "cluster_size": size}


def test_a_server_that_follows_the_leader_without_being_a_member_is_named():
    stuck = RecordedNats({LEADER: {**follower(2), "replicas": [{"name": SERVERS[1], "current": True}]},
                          SERVERS[1]: follower(2), SERVERS[2]: follower(2)})
    (problem,) = stuck.nats_problems(3)
    assert "size 2" in problem and f"['{SERVERS[2]}'] follow(s) it without being a member" in problem


def test_a_complete_group_has_no_problem():
    formed = RecordedNats({LEADER: {**follower(3), "replicas": [{"name": n, "current": True} for n in SERVERS[1:]]},
                           SERVERS[1]: follower(3), SERVERS[2]: follower(3)})
    assert formed.nats_problems(3) == []


def test_servers_that_name_different_leaders_are_reported():
    split = RecordedNats({LEADER: follower(3), SERVERS[1]: follower(3), SERVERS[2]: {**follower(3), "leader": ""}})
    (problem,) = split.nats_problems(3)
    assert "not one leader" in problem and SERVERS[2] in problem

