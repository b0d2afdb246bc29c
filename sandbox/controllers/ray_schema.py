"""A compact description of KubeRay's `ray.io/v1` types (v1.4), expanded into the structural
OpenAPI schemas its CRDs serve: field names, types, required fields, defaults and enums as in
KubeRay's published CRDs; pod templates are the Kubernetes client's PodTemplateSpec.

Notation: a key ending in `!` is required; a value is a type name (`string`, `bool`, `int32`,
`int64`, `number`, `date-time`, `quantity`, `strings` a map of strings, `pod` a pod template,
`model:V1X` a Kubernetes type, `enum:A|B`), optionally `=default`; a dict is an object, a
one-item list an array of it, a (type, description) pair a described field, `{RAW: s}` the
OpenAPI schema s itself.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.k8s.model_openapi import INT_OR_STRING, model_openapi, pod_template

Obj = dict[str, Any]
RAW = "$openapi"  # {RAW: schema}: an OpenAPI schema given as it is
_SCALARS: dict[str, Obj] = {
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "number": {"type": "number"},
    "date-time": {"type": "string", "format": "date-time"},
    "quantity": INT_OR_STRING,
    "strings": {"type": "object", "additionalProperties": {"type": "string"}},
}

CONDITIONS = (
    [
        {
            "lastTransitionTime!": "date-time",
            "message!": "string",
            "observedGeneration": "int64",
            "reason!": "string",
            "status!": "enum:True|False|Unknown",
            "type!": "string",
        }
    ],
    "Conditions of the latest available observations.",
)
AUTOSCALER_OPTIONS = {
    "env": ["model:V1EnvVar"],
    "envFrom": ["model:V1EnvFromSource"],
    "idleTimeoutSeconds": "int32",
    "image": "string",
    "imagePullPolicy": "string",
    "resources": "model:V1ResourceRequirements",
    "securityContext": "model:V1SecurityContext",
    "upscalingMode": "enum:Default|Aggressive|Conservative",
    "version": "enum:v1|v2",
    "volumeMounts": ["model:V1VolumeMount"],
}
REDIS_CREDENTIAL = {"value": "string", "valueFrom": "model:V1EnvVarSource"}
HEAD_GROUP = {
    "enableIngress": "bool",
    "headService": "service",
    "rayStartParams": ("strings", "Parameters of `ray start` for the head."),
    "serviceType": "string",
    "template!": ("pod", "The head pod's template."),
}
WORKER_GROUP = {
    "groupName!": ("string", "The worker group's name, unique in the cluster."),
    "idleTimeoutSeconds": "int32",
    "maxReplicas!": "int32=2147483647",
    "minReplicas!": "int32=0",
    "numOfHosts": "int32=1",
    "rayStartParams": ("strings", "Parameters of `ray start` for the workers."),
    "replicas": ("int32=0", "Desired number of workers (the autoscaler may change it)."),
    "scaleStrategy": {"workersToDelete": ["string"]},
    "suspend": "bool",
    "template!": ("pod", "The workers' pod template."),
}
RAYCLUSTER_SPEC = {
    "autoscalerOptions": AUTOSCALER_OPTIONS,
    "enableInTreeAutoscaling": "bool",
    "gcsFaultToleranceOptions": {
        "externalStorageNamespace": "string",
        "redisAddress!": "string",
        "redisPassword": REDIS_CREDENTIAL,
        "redisUsername": REDIS_CREDENTIAL,
    },
    "headGroupSpec!": (HEAD_GROUP, "The head node group."),
    "headServiceAnnotations": "strings",
    "managedBy": "string",
    "rayVersion": ("string", "The Ray version the images run."),
    "suspend": "bool",
    "workerGroupSpecs": ([WORKER_GROUP], "The worker node groups."),
}
RAYCLUSTER_STATUS = {
    "availableWorkerReplicas": "int32",
    "conditions": CONDITIONS,
    "desiredCPU": "quantity",
    "desiredGPU": "quantity",
    "desiredMemory": "quantity",
    "desiredTPU": "quantity",
    "desiredWorkerReplicas": "int32",
    "endpoints": "strings",
    "head": {
        "podIP": "string",
        "podName": "string",
        "serviceIP": "string",
        "serviceName": "string",
    },
    "lastUpdateTime": "date-time",
    "maxWorkerReplicas": "int32",
    "minWorkerReplicas": "int32",
    "observedGeneration": "int64",
    "readyWorkerReplicas": "int32",
    "reason": "string",
    "state": ("string", "The cluster's state (ready, suspended, failed…); see conditions."),
    "stateTransitionTimes": {
        RAW: {"type": "object", "additionalProperties": _SCALARS["date-time"]}
    },
}
RAYJOB_SPEC = {
    "activeDeadlineSeconds": "int32",
    "backoffLimit": "int32=0",
    "clusterSelector": "strings",
    "deletionPolicy": "string",
    "entrypoint": ("string", "The command the job runs."),
    "entrypointNumCpus": "number",
    "entrypointNumGpus": "number",
    "entrypointResources": "string",
    "jobId": "string",
    "managedBy": "string",
    "metadata": "strings",
    "rayClusterSpec": RAYCLUSTER_SPEC,
    "runtimeEnvYAML": "string",
    "shutdownAfterJobFinishes": "bool",
    "submissionMode": "string=K8sJobMode",
    "submitterConfig": {"backoffLimit": "int32"},
    "submitterPodTemplate": "pod",
    "suspend": "bool",
    "ttlSecondsAfterFinished": "int32=0",
}
RAYJOB_STATUS = {
    "dashboardURL": "string",
    "endTime": "date-time",
    "failed": "int32=0",
    "jobDeploymentStatus": "string",
    "jobId": "string",
    "jobStatus": "string",
    "message": "string",
    "observedGeneration": "int64",
    "rayClusterName": "string",
    "rayClusterStatus": RAYCLUSTER_STATUS,
    "rayJobInfo": {"endTime": "date-time", "startTime": "date-time"},
    "reason": "string",
    "startTime": "date-time",
    "succeeded": "int32=0",
}
RAYSERVICE_SPEC = {
    "deploymentUnhealthySecondThreshold": "int32",
    "excludeHeadPodFromServeSvc": "bool",
    "rayClusterConfig!": RAYCLUSTER_SPEC,
    "serveConfigV2": "string",
    "serveService": "service",
    "serviceUnhealthySecondThreshold": "int32",
    "upgradeStrategy": {"type": "string"},
}
_SERVICE_STATUS = {
    "applicationStatuses": {RAW: {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    "rayClusterName": "string",
    "rayClusterStatus": RAYCLUSTER_STATUS,
}
RAYSERVICE_STATUS = {
    "activeServiceStatus": _SERVICE_STATUS,
    "conditions": CONDITIONS,
    "lastUpdateTime": "date-time",
    "numServeEndpoints": "int32",
    "observedGeneration": "int64",
    "pendingServiceStatus": _SERVICE_STATUS,
    "serviceStatus": "string",
}


def _service() -> Obj:
    service = model_openapi("V1Service")
    service["properties"]["metadata"] = pod_template()["properties"]["metadata"]
    return service


def _scalar(text: str) -> Obj:
    name, _, default = text.partition("=")
    if name.startswith("enum:"):
        found: Obj = {"type": "string", "enum": name[5:].split("|")}
    elif name.startswith("model:"):
        found = model_openapi(name[6:])
    elif name == "pod":
        found = pod_template()
    elif name == "service":
        found = _service()
    else:
        found = copy.deepcopy(_SCALARS[name])
    if default:
        found["default"] = json.loads(default) if found.get("type") == "integer" else default
    return found


def expand(spec: Any) -> Obj:
    """The OpenAPI schema of a compact description."""
    if isinstance(spec, tuple):
        found = expand(spec[0])
        found["description"] = spec[1]
        return found
    if isinstance(spec, list):
        return {"type": "array", "items": expand(spec[0])}
    if isinstance(spec, str):
        return _scalar(spec)
    if RAW in spec:
        return copy.deepcopy(spec[RAW])
    properties: Obj = {}
    required = []
    for key, value in spec.items():
        name = key.rstrip("!")
        properties[name] = expand(value)
        if key.endswith("!"):
            required.append(name)
    found = {"type": "object", "properties": properties}
    if required:
        found["required"] = required
    return found


def root_schema(spec: Obj, status: Obj, description: str) -> Obj:
    """A kind's openAPIV3Schema: apiVersion, kind, metadata, spec and status."""
    return {
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": expand(spec),
            "status": expand(status),
        },
    }
