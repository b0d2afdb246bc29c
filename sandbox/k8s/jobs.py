"""The Job controller: pods from the template up to `parallelism` until `completions` of them
succeeded (the sandbox's kubelets end a Job's pods after their modelled run), then the Job is
Complete; `backoffLimit` failed pods make it Failed. The API server's defaults for a new Job
(selector on its uid, the pod labels) are in `server_defaults`."""

from __future__ import annotations

from typing import Any

from sandbox.k8s import events
from sandbox.k8s.cluster_context import Cluster
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.owned import PODS, fresh, once, owned_by, stamp_conditions, write_status
from sandbox.k8s.replicasets import create_pod, is_ready, pod_from_template

Obj = dict[str, Any]
JOBS = storage_key(builtin("Job"))
CONTROLLER = "job-controller"
UID_LABEL = "batch.kubernetes.io/controller-uid"
NAME_LABEL = "batch.kubernetes.io/job-name"


def job_labels(job: Obj) -> dict[str, str]:
    """The labels the API server gives a Job's pods."""
    uid, name = job["metadata"]["uid"], job["metadata"]["name"]
    return {UID_LABEL: uid, NAME_LABEL: name, "controller-uid": uid, "job-name": name}


def _finished(job: Obj) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def _condition(kind: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }


def job_status(job: Obj, pods: list[Obj], now: str) -> tuple[Obj, str]:
    """(status, the final condition reached now or "")."""
    spec, old = job.get("spec") or {}, job.get("status") or {}
    completions = int(spec.get("completions") or 1)
    phases = [(p.get("status") or {}).get("phase") for p in pods]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    active = [
        p for p, phase in zip(pods, phases, strict=True) if phase not in ("Succeeded", "Failed")
    ]
    status: Obj = {
        "startTime": old.get("startTime", now),
        "active": len(active),
        "ready": sum(1 for p in active if is_ready(p)),
        "succeeded": succeeded,
        "failed": failed,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }
    status = {
        k: v
        for k, v in status.items()
        if v or k in ("ready", "terminating", "uncountedTerminatedPods", "startTime")
    }
    conditions = list(old.get("conditions") or [])
    reached = ""
    if not _finished(job):
        if succeeded >= completions:
            reached = "Complete"
            message = "Reached expected number of succeeded pods"
            conditions += [
                _condition("SuccessCriteriaMet", "CompletionsReached", message, now),
                _condition("Complete", "CompletionsReached", message, now),
            ]
            status["completionTime"] = now
        elif failed > int(spec.get("backoffLimit", 6)):
            reached = "Failed"
            message = "Job has reached the specified backoff limit"
            conditions += [
                _condition("FailureTarget", "BackoffLimitExceeded", message, now),
                _condition("Failed", "BackoffLimitExceeded", message, now),
            ]
    elif old.get("completionTime"):
        status["completionTime"] = old["completionTime"]
    if conditions:
        status["conditions"] = stamp_conditions(old.get("conditions"), conditions, now)
    return status, reached


def sync_job(cluster: Cluster, job: Obj) -> None:
    """Start the pods the Job still needs; report progress and completion."""

    def sync() -> None:
        found = fresh(cluster, JOBS, job)
        if found is None or _finished(found):
            return
        spec = found.get("spec") or {}
        pods = owned_by(cluster, PODS, found)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        running = [
            p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        completions = int(spec.get("completions") or 1)
        wanted = min(int(spec.get("parallelism", 1)), completions - succeeded)
        if not spec.get("suspend"):
            template = spec.get("template") or {}
            for _ in range(max(wanted - len(running), 0)):
                pod = pod_from_template(
                    found, template, found["metadata"]["name"], job_labels(found)
                )
                if create_pod(cluster, found, pod, CONTROLLER):
                    break
        latest = fresh(cluster, JOBS, found)
        if latest is None:
            return
        status, reached = job_status(latest, owned_by(cluster, PODS, latest), cluster.now())
        write_status(cluster, latest, status, CONTROLLER)
        if reached == "Complete":
            events.record(
                cluster, latest, events.NORMAL, "Completed", "Job completed", component=CONTROLLER
            )
        elif reached == "Failed":
            events.record(
                cluster,
                latest,
                events.WARNING,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                component=CONTROLLER,
            )

    once(f"{cluster.key}|job|{job['metadata']['uid']}", sync)
