"""High availability of a platform release on a multi-node cluster (the kind provider here).

- shape.py: what a cloud overlay promises once installed: a 3-member etcd seen alike from each
  member, a NATS cluster with its routes up and a JetStream stream of 3 replicas, pods spread so one
  node's loss keeps a replica, PDBs that hold.
- writes.py: a bounded load of etcd puts and JetStream publishes that records which were
  acknowledged, and reads them back: lost = acknowledged but not readable.
- node_faults.py: node faults (drain, spot eviction, hard loss, partition, leader loss, two of three
  lost) injected under that load, with what failed, what was lost, recovery and restarts.
- serving.py: the frontend and mocker workers on the workers, and the inference load through it.
- background.py: what the loads share: a bounded loop in a thread of its own, started and stopped
  around a fault.
- report.py: the per-overlay HA section of reports/ha.md.
"""
