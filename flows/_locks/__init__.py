"""One mutating run per environment at a time, whoever starts it (CLI, deployment, schedule):
a Prefect global concurrency limit per environment *of one platform on one target*, created on
first use, whose one slot a run holds under a lease it renews.

Who holds it is recorded beside it, in a Prefect Variable (`<lock>-holder`): the flow run, its
host, PID and process start time, its lease, and a heartbeat the holder refreshes every
HEARTBEAT_SECONDS. A waiting run reads that record; it says every minute who holds the lock
and in what state, and it frees the slot of a holder it can prove gone (its flow run finished,
crashed or cancelled, or deleted; its process dead on this host; or its heartbeat silent for
STALE_SECONDS), with a log line naming it. None of this needs the server's leases, which live
in the server's memory and are lost when it restarts.

Slot requests go straight through the Prefect client's HTTP connection rather than through
`prefect.concurrency`: under load, Prefect's server on SQLite answers 503 ("database is
locked") now and then, and Prefect's client then sleeps (2 s even with retries off; with
them on, 2, 4, 8, 16, 32 s before failing the run). Measured in a 10 environments × 20 teams
re-run: free locks acquired after 2–79 s, and one run failed. A waiting run here asks again
every second or so until its timeout, whatever the answer."""

from flows._locks.holder import read_holder
from flows._locks.holding import environment_lock, lock_name, mutating

__all__ = ["environment_lock", "lock_name", "mutating", "read_holder"]
