"""IAM service accounts and IAM policies (accounts, projects over Resource Manager v1 and v3)
through plain REST and the official Resource Manager client; GKE refusing node service
accounts that do not exist or are not visible yet."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import container_v1
from google.iam.v1 import iam_policy_pb2, policy_pb2

from sandbox.cloud import Sandbox
from sandbox.gcp.iam.account_store import service_account_visible
from sandbox.latency import LatencyModel
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients
from tests.sandbox.test_gcloud import gcloud

IAM = "iam.googleapis.com"
WORKLOAD_USER = "roles/iam.workloadIdentityUser"


class Rest:
    """IAM and Resource Manager over plain REST (google-auth's AuthorizedSession)."""

    def __init__(self, clients: Clients) -> None:
        self.session = clients.rest()
        self.iam = clients.sandbox.url("iam") + "/v1/"
        self.rm = clients.sandbox.url("cloudresourcemanager") + "/"

    def call(self, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        """Send a request, check the HTTP status, return the JSON answer."""
        response = self.session.request(method, url, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def create(self, project: str, account_id: str, status: int = 200, **fields: str) -> Any:
        body = {"accountId": account_id, "serviceAccount": fields}
        return self.call("POST", f"{self.iam}projects/{project}/serviceAccounts", body, status)


@pytest.fixture
def rest(clients: Clients) -> Rest:
    return Rest(clients)


@pytest.fixture
def project(clients: Clients) -> str:
    """A project with the IAM API enabled (it needs no billing)."""
    clients.create_project("iam-project-1")
    clients.services.enable_service(
        request={"name": f"projects/iam-project-1/services/{IAM}"}
    ).result(timeout=10)
    return "iam-project-1"


def test_service_disabled_until_iam_is_enabled(clients: Clients, rest: Rest) -> None:
    created = clients.create_project("iam-project-0")
    error = rest.create("iam-project-0", "runner-sa", status=403)["error"]
    assert error["details"][0]["reason"] == "SERVICE_DISABLED"
    assert error["details"][0]["metadata"]["service"] == IAM
    assert error["details"][0]["metadata"]["consumer"] == created.name
    clients.services.enable_service(
        request={"name": f"projects/iam-project-0/services/{IAM}"}
    ).result(timeout=10)
    assert rest.create("iam-project-0", "runner-sa")["email"].startswith("runner-sa@")


def test_account_lifecycle(rest: Rest, project: str) -> None:
    email = f"ray-worker@{project}.iam.gserviceaccount.com"
    account = rest.create(project, "ray-worker", displayName="Ray", description="Ray workers")
    assert account["email"] == email
    assert account["name"] == f"projects/{project}/serviceAccounts/{email}"
    assert account["projectId"] == project
    assert account["uniqueId"].isdigit() and len(account["uniqueId"]) == 21
    assert account["oauth2ClientId"] == account["uniqueId"]
    assert (account["displayName"], account["description"]) == ("Ray", "Ray workers")
    assert account["etag"]
    # By email, by unique ID, and with the `-` project wildcard.
    for ref in (f"projects/{project}/serviceAccounts/{email}", "projects/-/serviceAccounts/"):
        suffix = account["uniqueId"] if ref.endswith("/") else ""
        assert rest.call("GET", rest.iam + ref + suffix) == account
    assert rest.call("GET", f"{rest.iam}projects/-/serviceAccounts/{email}") == account

    rest.create(project, "second-one")
    listed = rest.call("GET", f"{rest.iam}projects/{project}/serviceAccounts")["accounts"]
    assert [a["email"].split("@")[0] for a in listed] == ["ray-worker", "second-one"]
    first = rest.call("GET", f"{rest.iam}projects/{project}/serviceAccounts?pageSize=1")
    assert len(first["accounts"]) == 1 and first["nextPageToken"]

    url = f"{rest.iam}projects/{project}/serviceAccounts/{email}"
    patched = rest.call(
        "PATCH", url, {"serviceAccount": {"displayName": "Ray nodes"}, "updateMask": "displayName"}
    )
    assert (patched["displayName"], patched["description"]) == ("Ray nodes", "Ray workers")
    cleared = rest.call(
        "PATCH", url, {"serviceAccount": {"description": ""}, "updateMask": "description"}
    )
    assert "description" not in cleared and cleared["displayName"] == "Ray nodes"
    bad_mask = {"serviceAccount": {"email": "x"}, "updateMask": "email"}
    assert rest.call("PATCH", url, bad_mask, status=400)["error"]["status"] == "INVALID_ARGUMENT"

    assert rest.call("DELETE", url) == {}
    missing = rest.call("GET", url, status=404)["error"]
    assert missing["status"] == "NOT_FOUND" and missing["message"] == "Unknown service account"
    restored = rest.call(
        "POST", f"{rest.iam}projects/-/serviceAccounts/{account['uniqueId']}:undelete", {}
    )
    assert restored["restoredAccount"]["email"] == email
    assert rest.call("GET", url)["uniqueId"] == account["uniqueId"]


def test_duplicate_and_invalid_account_ids(rest: Rest, project: str) -> None:
    rest.create(project, "gke-nodes")
    error = rest.create(project, "gke-nodes", status=409)["error"]
    assert error["status"] == "ALREADY_EXISTS"
    assert error["message"] == (
        f"Service account gke-nodes already exists within project projects/{project}."
    )
    short = rest.create(project, "short", status=400)["error"]
    assert short["message"] == 'The account ID "short" does not have a length between 6 and 30.'
    for bad in ("Upper-case", "1starts-digit", "ends-with-", "under_score"):
        assert rest.create(project, bad, status=400)["error"]["status"] == "INVALID_ARGUMENT"
    assert rest.create("no-such-project", "gke-nodes", status=403)["error"]["details"]


def test_account_policy_for_workload_identity(rest: Rest, project: str) -> None:
    account = rest.create(project, "team-ray")
    resource = f"{rest.iam}projects/{project}/serviceAccounts/{account['email']}"
    empty = rest.call("POST", f"{resource}:getIamPolicy?options.requestedPolicyVersion=3")
    assert empty == {"etag": "ACAB"}
    member = f"serviceAccount:{project}.svc.id.goog[team/ray]"
    policy = {"bindings": [{"role": WORKLOAD_USER, "members": [member]}], "etag": "ACAB"}
    written = rest.call("POST", f"{resource}:setIamPolicy", {"policy": policy})
    assert written["bindings"] == [{"role": WORKLOAD_USER, "members": [member]}]
    assert written["etag"] != "ACAB" and written["version"] == 1
    assert rest.call("POST", f"{resource}:getIamPolicy") == written

    stale = rest.call("POST", f"{resource}:setIamPolicy", {"policy": policy}, status=409)
    assert stale["error"]["status"] == "ABORTED"
    for bad_member in ("team/ray", f"serviceAccount:{project}.svc.id.goog[team]", "robot:x"):
        bad = {"bindings": [{"role": WORKLOAD_USER, "members": [bad_member]}]}
        assert rest.call("POST", f"{resource}:setIamPolicy", {"policy": bad}, status=400)
    not_for_accounts = {"bindings": [{"role": "roles/logging.logWriter", "members": [member]}]}
    error = rest.call("POST", f"{resource}:setIamPolicy", {"policy": not_for_accounts}, status=400)
    assert "not supported for this resource" in error["error"]["message"]


def test_project_policy_is_shared_by_v1_and_v3(clients: Clients, rest: Rest, project: str) -> None:
    v3 = rest.call("POST", f"{rest.rm}v3/projects/{project}:getIamPolicy", {})
    v1 = rest.call("POST", f"{rest.rm}v1/projects/{project}:getIamPolicy", {})
    assert v3 == v1
    assert v3["bindings"] == [{"role": "roles/owner", "members": ["user:sandbox@example.com"]}]

    account = rest.create(project, "log-writer")
    member = f"serviceAccount:{account['email']}"
    binding = {"role": "roles/logging.logWriter", "members": [member]}
    policy = {**v1, "bindings": [*v1["bindings"], binding]}
    written = rest.call("POST", f"{rest.rm}v1/projects/{project}:setIamPolicy", {"policy": policy})
    assert rest.call("POST", f"{rest.rm}v3/projects/{project}:getIamPolicy", {}) == written
    stale = rest.call(
        "POST", f"{rest.rm}v3/projects/{project}:setIamPolicy", {"policy": policy}, status=409
    )
    assert stale["error"]["status"] == "ABORTED"

    # The official v3 client reads the same policy (etag as bytes) and writes it back.
    got = clients.projects.get_iam_policy(request={"resource": f"projects/{project}"})
    assert {(b.role, tuple(b.members)) for b in got.bindings} == {
        ("roles/logging.logWriter", (member,)),
        ("roles/owner", ("user:sandbox@example.com",)),
    }
    got.bindings.append(policy_pb2.Binding(role="roles/viewer", members=["group:ml@example.com"]))
    request = iam_policy_pb2.SetIamPolicyRequest(resource=f"projects/{project}", policy=got)
    assert "roles/viewer" in {
        b.role for b in clients.projects.set_iam_policy(request=request).bindings
    }
    with pytest.raises(exceptions.Conflict) as caught:  # the same etag again: 409 over REST
        clients.projects.set_iam_policy(request=request)
    assert gke.error_status(caught.value) == "ABORTED"

    ghost = {
        "role": "roles/viewer",
        "members": [f"serviceAccount:ghost-sa@{project}.iam.gserviceaccount.com"],
    }
    error = rest.call(
        "POST",
        f"{rest.rm}v1/projects/{project}:setIamPolicy",
        {"policy": {"bindings": [ghost]}},
        status=400,
    )
    assert error["error"]["message"] == (
        f"Service account ghost-sa@{project}.iam.gserviceaccount.com does not exist."
    )
    asked = {"permissions": ["gkehub.memberships.get", "container.clusters.get"]}
    url = f"{rest.rm}v1/projects/{project}:testIamPermissions"
    assert rest.call("POST", url, asked) == asked


def test_a_deleted_account_stays_bound_as_deleted(rest: Rest, project: str) -> None:
    account = rest.create(project, "short-lived")
    member = f"serviceAccount:{account['email']}"
    url = f"{rest.rm}v1/projects/{project}"
    policy = {"bindings": [{"role": "roles/viewer", "members": [member]}]}
    rest.call("POST", f"{url}:setIamPolicy", {"policy": policy})
    rest.call("DELETE", f"{rest.iam}{account['name']}")
    gone = f"deleted:{member}?uid={account['uniqueId']}"
    bindings = rest.call("POST", f"{url}:getIamPolicy", {})["bindings"]
    assert bindings == [{"role": "roles/viewer", "members": [gone]}]
    # A new account with the same email is another principal: it is not bound.
    assert rest.create(project, "short-lived")["uniqueId"] != account["uniqueId"]
    assert rest.call("POST", f"{url}:getIamPolicy", {})["bindings"] == bindings


def _realistic_create(clients: Clients, project: str, account_id: str) -> str:
    """Create an account with realistic latency (a propagation window); back to instant."""
    rt = clients.sandbox.rt
    previous = rt.latency
    rt.latency = LatencyModel("realistic", time_scale=10.0, seed=1)
    try:
        return str(clients.create_service_account(project, account_id)["email"])
    finally:
        rt.latency = previous


def test_new_account_is_invisible_to_other_apis_for_a_while(
    clients: Clients, rest: Rest, project: str
) -> None:
    email = _realistic_create(clients, project, "late-account")
    rt = clients.sandbox.rt
    assert rest.call("GET", f"{rest.iam}projects/-/serviceAccounts/{email}")["email"] == email
    assert not service_account_visible(rt, email)
    binding = {"role": "roles/logging.logWriter", "members": [f"serviceAccount:{email}"]}
    url = f"{rest.rm}v3/projects/{project}:setIamPolicy"
    rest.call("POST", url, {"policy": {"bindings": [binding]}}, status=400)
    rt.advance(120)  # past the window (30 s / 90 s, divided by the time scale)
    assert service_account_visible(rt, email)
    assert rest.call("POST", url, {"policy": {"bindings": [binding]}})["bindings"] == [binding]


def _create_pool(sandbox: Sandbox, project: str, account: str) -> container_v1.Operation:
    client = gke.container(sandbox)
    pool = container_v1.NodePool(
        name="cpu-pool",
        initial_node_count=1,
        config=container_v1.NodeConfig(machine_type="e2-standard-4", service_account=account),
    )
    parent = f"projects/{project}/locations/{gke.REGION}/clusters/ml-dev"
    return client.create_node_pool(parent=parent, node_pool=pool)


def test_gke_refuses_node_accounts_that_do_not_exist(clients: Clients) -> None:
    project = gke.gke_project(clients, "iam-gke-1")
    gke.create_cluster(clients.sandbox, project)
    missing = f"missing-sa@{project}.iam.gserviceaccount.com"
    with pytest.raises(exceptions.BadRequest) as caught:
        _create_pool(clients.sandbox, project, missing)
    assert caught.value.message.endswith(f': Service account "{missing}" does not exist.')

    late = _realistic_create(clients, project, "late-nodes")
    with pytest.raises(exceptions.BadRequest):
        _create_pool(clients.sandbox, project, late)
    clients.sandbox.rt.advance(120)
    done = gke.finish(
        gke.container(clients.sandbox),
        project,
        gke.REGION,
        _create_pool(clients.sandbox, project, late),
    )
    assert done.status == container_v1.Operation.Status.DONE

    body = gke.cluster_body(project, "ml-other")
    body.node_pools[0].config.service_account = missing
    with pytest.raises(exceptions.BadRequest):
        gke.container(clients.sandbox).create_cluster(
            parent=f"projects/{project}/locations/{gke.REGION}", cluster=body
        )


needs_gcloud = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")
GCLOUD_PROJECT = "gcloud-iam-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    """One sandbox for the gcloud tests, with a project whose IAM API is enabled."""
    with Sandbox(Path(tmp_path_factory.mktemp("gcloud-iam")) / "state") as sandbox:
        clients = Clients(sandbox)
        clients.create_project(GCLOUD_PROJECT)
        clients.services.enable_service(
            request={"name": f"projects/{GCLOUD_PROJECT}/services/{IAM}"}
        ).result(timeout=10)
        yield clients


@needs_gcloud
@pytest.mark.timeout(180)
def test_gcloud_service_accounts_and_bindings(cloud: Clients) -> None:
    project = ["--project", GCLOUD_PROJECT]
    email = f"ray-team@{GCLOUD_PROJECT}.iam.gserviceaccount.com"
    created = gcloud(
        cloud.sandbox.state_dir,
        "iam",
        "service-accounts",
        "create",
        "ray-team",
        "--display-name",
        "Ray",
        *project,
    )
    assert created["email"] == email and created["displayName"] == "Ray"
    described = gcloud(
        cloud.sandbox.state_dir, "iam", "service-accounts", "describe", email, *project
    )
    assert described["uniqueId"] == created["uniqueId"]
    listed = gcloud(cloud.sandbox.state_dir, "iam", "service-accounts", "list", *project)
    assert [account["email"] for account in listed] == [email]

    member = f"serviceAccount:{GCLOUD_PROJECT}.svc.id.goog[team/ray]"
    policy = gcloud(
        cloud.sandbox.state_dir,
        "iam",
        "service-accounts",
        "add-iam-policy-binding",
        email,
        "--member",
        member,
        "--role",
        WORKLOAD_USER,
        *project,
    )
    assert policy["bindings"] == [{"members": [member], "role": WORKLOAD_USER}]

    gcloud(
        cloud.sandbox.state_dir,
        "projects",
        "add-iam-policy-binding",
        GCLOUD_PROJECT,
        "--member",
        f"serviceAccount:{email}",
        "--role",
        "roles/logging.logWriter",
        "--condition=None",
    )
    read = gcloud(cloud.sandbox.state_dir, "projects", "get-iam-policy", GCLOUD_PROJECT)
    assert {binding["role"]: binding["members"] for binding in read["bindings"]} == {
        "roles/logging.logWriter": [f"serviceAccount:{email}"],
        "roles/owner": ["user:sandbox@example.com"],
    }
    rest = Rest(cloud)
    v3 = rest.call("POST", f"{rest.rm}v3/projects/{GCLOUD_PROJECT}:getIamPolicy", {})
    assert v3["etag"] == read["etag"]
