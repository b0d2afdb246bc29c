"""The platform spec: pydantic models of platform.yaml, environments/*.yaml and teams/*.yaml.

Single-file checks live here as validators; checks across files live in `checks.py`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlplat.specs.fields import (
    BillingAccount,
    Cidr,
    Count,
    DnsLabel,
    GkeVersion,
    GpuCount,
    Image,
    K8sLabelKey,
    K8sLabelValue,
    LabelKey,
    LabelValue,
    Member,
    NumericId,
    ProjectId,
    Quantity,
    Region,
    SemVer,
    ZoneSuffix,
    parse_quantity,
)
from mlplat.specs.gpus import GPU_TYPES, gpu_combination_error


class Spec(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class ReleaseChannel(StrEnum):
    RAPID = "RAPID"
    REGULAR = "REGULAR"
    STABLE = "STABLE"
    EXTENDED = "EXTENDED"


class Provisioning(StrEnum):
    """How a node pool gets its VMs: a specific reservation, on demand, or real Spot VMs."""

    RESERVATION = "reservation"
    ON_DEMAND = "on-demand"
    SPOT = "spot"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NO_SCHEDULE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"


class Enforcement(StrEnum):
    """Gatekeeper enforcement action of the platform's constraints."""

    DENY = "deny"
    DRYRUN = "dryrun"
    WARN = "warn"


class Parent(Spec):
    """Where projects are created: exactly one of a folder or an organization."""

    folder: NumericId | None = None
    organization: NumericId | None = None

    @model_validator(mode="after")
    def _one_parent(self) -> Self:
        if (self.folder is None) == (self.organization is None):
            raise ValueError("set exactly one of 'folder' or 'organization'")
        return self

    @property
    def resource_name(self) -> str:
        """`folders/N` or `organizations/N`, as Resource Manager names the parent."""
        return f"folders/{self.folder}" if self.folder else f"organizations/{self.organization}"


class GitOps(Spec):
    """The GitHub repository Config Sync reads, and how mlplat writes to it."""

    owner: DnsLabel = Field(description="GitHub organization (or user) that owns the repository")
    repository: DnsLabel = "mlp-configsync"
    token_secret: DnsLabel = Field(
        "github-token",
        description="Prefect Secret block holding the GitHub token (else GITHUB_TOKEN)",
    )
    reviewers_required: Count = Field(1, le=6)


class Versions(Spec):
    config_sync: SemVer = Field("1.22.1", description="Config Sync, upgraded by hand (pinned)")
    policy_controller: SemVer = Field("1.21.0", description="Policy Controller (pinned)")
    ray: SemVer = "2.47.1"


class Policies(Spec):
    """Platform security policies enforced by Policy Controller constraints."""

    enforcement: Enforcement = Enforcement.DENY
    allowed_registries: tuple[str, ...] = Field(
        ("docker.io/rayproject/", "quay.io/jupyter/", "us-docker.pkg.dev/"), min_length=1
    )
    forbid_privileged: bool = True
    required_team_labels: tuple[K8sLabelKey, ...] = ("mlplat.dev/team",)


class Platform(Spec):
    """platform.yaml: what all environments share."""

    name: DnsLabel = Field(max_length=12, description="name prefix of every resource")
    project_suffix: DnsLabel = Field(
        max_length=6, description="fixed suffix that makes derived project IDs globally unique"
    )
    parent: Parent
    billing_account: BillingAccount
    region: Region = "us-central1"
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    gitops: GitOps
    versions: Versions = Versions()
    policies: Policies = Policies()
    environment_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="keys merged under every environments/*.yaml (one level of overlay)",
    )


class AuthorizedNetwork(Spec):
    name: DnsLabel
    cidr: Cidr


class Network(Spec):
    subnet_cidr: Cidr = "10.40.0.0/22"
    pods_cidr: Cidr = "10.64.0.0/14"
    services_cidr: Cidr = "10.68.0.0/20"
    master_cidr: Cidr = "172.16.0.32/28"
    authorized_networks: tuple[AuthorizedNetwork, ...] = ()

    @field_validator("master_cidr")
    @classmethod
    def _master_is_28(cls, value: str) -> str:
        if not value.endswith("/28"):
            raise ValueError("must be a /28 block (GKE's control-plane range)")
        return value


class Range(Spec):
    min: Count
    max: Count

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Autoprovisioning(Spec):
    """Node auto-provisioning limits of the cluster (GKE's NAP)."""

    enabled: bool = True
    cpu: Range = Range(min=4, max=600)
    memory_gb: Range = Range(min=16, max=2400)
    gpus: dict[str, Count] = Field(default_factory=lambda: {"nvidia-l4": 30})

    @model_validator(mode="after")
    def _known_gpus(self) -> Self:
        unknown = sorted(set(self.gpus) - set(GPU_TYPES))
        if unknown:
            raise ValueError(f"unknown GPU type(s) {unknown}; known: {', '.join(GPU_TYPES)}")
        return self


class SystemPool(Spec):
    """The cluster's default pool for system workloads (the seed left 6 × e2-medium)."""

    machine_type: str = "e2-standard-4"
    nodes_per_zone: Count = Field(1, ge=1)


class RayOperator(Spec):
    """GKE's Ray operator add-on: GKE runs KubeRay and serves its CRDs."""

    enabled: bool = True
    logging: bool = Field(True, description="collect Ray clusters' logs (Cloud Logging)")
    monitoring: bool = Field(True, description="collect Ray clusters' metrics (Managed Prometheus)")


class Cluster(Spec):
    release_channel: ReleaseChannel = ReleaseChannel.RAPID
    min_master_version: GkeVersion | None = None
    zones: tuple[ZoneSuffix, ...] = ("a", "b", "c")
    system_pool: SystemPool = SystemPool()
    autoprovisioning: Autoprovisioning = Autoprovisioning()
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    dns_endpoint: bool = Field(
        True,
        description="serve the control plane's DNS-based endpoint to authorized callers "
        "(`mlplat kubeconfig ENV --via dns`); off: only the Connect Gateway and the private IP",
    )
    ray_operator: RayOperator = RayOperator()


class Gpu(Spec):
    type: str
    count: GpuCount


class Taint(Spec):
    key: K8sLabelKey
    value: K8sLabelValue
    effect: TaintEffect = TaintEffect.NO_SCHEDULE


class NodePool(Spec):
    name: DnsLabel = Field(max_length=40)
    machine_type: str
    gpu: Gpu | None = None
    provisioning: Provisioning = Provisioning.ON_DEMAND
    reserved_nodes: Count = Field(0, description="VMs reserved for a 'reservation' pool")
    autoscaling: Range = Range(min=0, max=24)
    taints: tuple[Taint, ...] = ()
    labels: dict[K8sLabelKey, K8sLabelValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.gpu is not None:
            problem = gpu_combination_error(self.machine_type, self.gpu.type, self.gpu.count)
            if problem:
                raise ValueError(f"gpu: {problem}")
        if self.provisioning is Provisioning.RESERVATION and self.reserved_nodes < 1:
            raise ValueError("a 'reservation' pool needs reserved_nodes ≥ 1")
        if self.provisioning is not Provisioning.RESERVATION and self.reserved_nodes:
            raise ValueError("reserved_nodes applies only to provisioning: reservation")
        return self


class PolicyBundle(StrEnum):
    """Policy bundles Google publishes for Policy Controller (installed as constraints)."""

    CIS_K8S = "cis-k8s-v1.5.1"
    COST_RELIABILITY = "cost-reliability-v2023"
    NIST_SP_800_53 = "nist-sp-800-53-r5"
    NSA_CISA_K8S = "nsa-cisa-k8s-v1.2"
    PCI_DSS = "pci-dss-v3.2.1"
    POLICY_ESSENTIALS = "policy-essentials-v2022"
    PSS_BASELINE = "pss-baseline-v2022"
    PSS_RESTRICTED = "pss-restricted-v2022"


class PolicyController(Spec):
    """Policy Controller through the fleet's `policycontroller` feature."""

    enabled: bool = True
    template_library: bool = True
    referential_rules: bool = True
    audit_interval_seconds: Count = Field(60, description="0 turns the audit off")
    log_denies: bool = True
    exemptable_namespaces: tuple[DnsLabel, ...] = Field(
        ("kube-system", "config-management-system", "gatekeeper-system"),
        description="namespaces that may be exempted from Policy Controller by label",
    )
    bundles: tuple[PolicyBundle, ...] = Field((), description="Google's policy bundles")


class ConfigSync(Spec):
    """Config Sync of the environment's cluster (through the `configmanagement` feature)."""

    prevent_drift: bool = Field(
        True, description="refuse hand edits of objects Config Sync manages (admission webhook)"
    )


class Environment(Spec):
    """environments/<name>.yaml, after the platform's `environment_defaults` are merged in."""

    name: DnsLabel = Field(max_length=10)
    project_id: ProjectId | None = Field(
        None, description="explicit project ID; derived as <name>-<env>-<project_suffix> if unset"
    )
    region: Region | None = None
    approval_required: bool = False
    network: Network = Network()
    cluster: Cluster = Cluster()
    node_pools: tuple[NodePool, ...] = ()
    config_sync_branch: DnsLabel | None = Field(None, description="defaults to the env name")
    policy_controller: PolicyController = PolicyController()
    config_sync: ConfigSync = ConfigSync()

    @model_validator(mode="after")
    def _unique_pools(self) -> Self:
        names = [pool.name for pool in self.node_pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"node pool names must be unique; repeated: {duplicates}")
        return self


class Members(Spec):
    users: tuple[Member, ...] = ()
    groups: tuple[Member, ...] = ()


class Roles(Spec):
    """Team members by role: admin (manages the namespace), developer (runs work), viewer."""

    admin: Members = Members()
    developer: Members = Members()
    viewer: Members = Members()


class Resources(Spec):
    cpu: Quantity
    memory: Quantity
    gpu: Count = 0


class Quota(Spec):
    cpu: Quantity = "32"
    memory: Quantity = "128Gi"
    gpu: Count = 4
    pods: Count = 100


class WorkerGroup(Spec):
    name: DnsLabel = Field(max_length=30)
    min_replicas: Count = 0
    max_replicas: Count = 4
    replicas: Count = 1
    resources: Resources
    accelerator: str | None = Field(None, description="GPU type; selects the matching pools")
    provisioning: Provisioning | None = Field(None, description="prefer pools of this kind")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) must not exceed max_replicas "
                f"({self.max_replicas})"
            )
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise ValueError("replicas must lie between min_replicas and max_replicas")
        if self.resources.gpu and self.accelerator is None:
            raise ValueError("a worker group with GPUs must name its accelerator")
        if self.accelerator is not None and self.accelerator not in GPU_TYPES:
            raise ValueError(f"unknown accelerator {self.accelerator!r}")
        return self


class Ray(Spec):
    enabled: bool = True
    version: SemVer | None = Field(None, description="defaults to the platform's Ray version")
    image: Image | None = Field(None, description="defaults to rayproject/ray:<version>")
    head: Resources = Resources(cpu="2", memory="8Gi")
    workers: tuple[WorkerGroup, ...] = ()


class Notebook(Spec):
    enabled: bool = False
    image: Image = "quay.io/jupyter/minimal-notebook:2025-06-30"
    resources: Resources = Resources(cpu="1", memory="4Gi")


class Team(Spec):
    """teams/<name>.yaml: a team's space on the clusters of the environments it is in."""

    name: DnsLabel = Field(max_length=20)
    namespace: DnsLabel | None = Field(None, max_length=40, description="defaults to the name")
    environments: tuple[DnsLabel, ...] = Field(min_length=1)
    members: Roles = Roles()
    quota: Quota = Quota()
    ray: Ray = Ray()
    notebook: Notebook = Notebook()

    @property
    def namespace_name(self) -> str:
        return self.namespace or self.name

    @model_validator(mode="after")
    def _ray_fits_quota(self) -> Self:
        if not self.ray.enabled:
            return self
        gpus = self.ray.head.gpu + sum(w.max_replicas * w.resources.gpu for w in self.ray.workers)
        if gpus > self.quota.gpu:
            raise ValueError(
                f"ray needs up to {gpus} GPUs at full scale but quota.gpu is {self.quota.gpu}"
            )
        cpu = parse_quantity(self.ray.head.cpu) + sum(
            w.max_replicas * parse_quantity(w.resources.cpu) for w in self.ray.workers
        )
        if cpu > parse_quantity(self.quota.cpu):
            raise ValueError(
                f"ray needs up to {cpu} CPUs at full scale but quota.cpu is {self.quota.cpu}"
            )
        return self
