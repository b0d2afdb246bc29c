"""Constrained scalar types of the platform spec, declared once and reused by every model."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PROJECT_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE_SUFFIX = re.compile(r"^[a-z]$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_GKE_VERSION = re.compile(r"^\d+\.\d+(\.\d+(-gke\.\d+)?)?$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_NUMERIC_ID = re.compile(r"^[0-9]{1,20}$")
_QUANTITY = re.compile(r"^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_LABEL_KEY = re.compile(r"^[a-z][-_a-z0-9]{0,62}$")
_LABEL_VALUE = re.compile(r"^[-_a-z0-9]{0,63}$")
_K8S_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MEMBER = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IMAGE = re.compile(
    r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(/[-a-z0-9._]+)+(:[-\w.]+|@sha256:[0-9a-f]{64})?$"
)
_RESERVED_PROJECT_WORDS = ("google", "null", "undefined", "ssl")

_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            "must be a DNS-1123 label: lowercase letters, digits and '-', "
            "starting with a letter, ending with a letter or digit, at most 63 characters"
        )
    return value


def _project_id(value: str) -> str:
    if not _PROJECT_ID.match(value):
        raise ValueError(
            "must be a GCP project ID: 6 to 30 lowercase letters, digits or hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    for word in _RESERVED_PROJECT_WORDS:
        if word in value:
            raise ValueError(f"a GCP project ID cannot contain {word!r}")
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError("must be a GCP region such as 'us-central1'")
    return value


def _zone_suffix(value: str) -> str:
    if not _ZONE_SUFFIX.match(value):
        raise ValueError("must be a zone letter such as 'a' (the region is prefixed)")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 CIDR block such as '10.0.0.0/20' ({exc})") from None
    if network.version != 4:
        raise ValueError("must be an IPv4 CIDR block")
    return value


def _semver(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError("must be a version such as '1.2.3'")
    return value


def _gke_version(value: str) -> str:
    if not _GKE_VERSION.match(value):
        raise ValueError("must be a GKE version such as '1.33' or '1.33.5-gke.1080000'")
    return value


def _billing_account(value: str) -> str:
    if not _BILLING_ACCOUNT.match(value):
        raise ValueError("must be a billing account ID such as '012345-6789AB-CDEF01'")
    return value


def _numeric_id(value: str) -> str:
    if not _NUMERIC_ID.match(value):
        raise ValueError("must be a numeric ID such as '123456789012'")
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError("must be a non-negative Kubernetes quantity such as '500m', '4', '16Gi'")
    return value


def _label_key(value: str) -> str:
    if not _LABEL_KEY.match(value):
        raise ValueError("must be a label key: lowercase letters, digits, '-' or '_', ≤ 63")
    return value


def _label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise ValueError("must be a label value: lowercase letters, digits, '-' or '_', ≤ 63")
    return value


def _k8s_label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or not _K8S_NAME.match(
        name
    ):
        raise ValueError(
            "must be a Kubernetes label key: an optional DNS prefix and '/', then a name of at "
            "most 63 letters, digits, '-', '_' or '.'"
        )
    return value


def _k8s_label_value(value: str) -> str:
    if value and not _K8S_NAME.match(value):
        raise ValueError("must be a Kubernetes label value: at most 63 letters, digits, '-_.'")
    return value


def _member(value: str) -> str:
    if not _MEMBER.match(value):
        raise ValueError("must be an email address such as 'alice@example.com'")
    return value


def _image(value: str) -> str:
    if not _IMAGE.match(value):
        raise ValueError("must be a container image such as 'docker.io/rayproject/ray:2.47.1'")
    return value


def parse_quantity(value: str) -> Decimal:
    """The numeric value of a Kubernetes quantity string ('500m' → 0.5, '2Gi' → 2147483648)."""
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"not a quantity: {value!r}")
    number, suffix = match.group(1), match.group(3) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * (Decimal(10) ** int(suffix[1:]))
        return Decimal(number) * _SUFFIXES[suffix]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"not a quantity: {value!r}") from exc


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
ProjectId = Annotated[str, AfterValidator(_project_id)]
Region = Annotated[str, AfterValidator(_region)]
ZoneSuffix = Annotated[str, AfterValidator(_zone_suffix)]
Cidr = Annotated[str, AfterValidator(_cidr)]
SemVer = Annotated[str, AfterValidator(_semver)]
GkeVersion = Annotated[str, AfterValidator(_gke_version)]
BillingAccount = Annotated[str, AfterValidator(_billing_account)]
NumericId = Annotated[str, AfterValidator(_numeric_id)]
Quantity = Annotated[str, AfterValidator(_quantity)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
K8sLabelKey = Annotated[str, AfterValidator(_k8s_label_key)]
K8sLabelValue = Annotated[str, AfterValidator(_k8s_label_value)]
Member = Annotated[str, AfterValidator(_member)]
Image = Annotated[str, AfterValidator(_image)]


def _not_boolean(value: object) -> object:
    # YAML's `true` would pass as 1: a count is never a yes/no
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


Count = Annotated[int, Field(ge=0), BeforeValidator(_not_boolean)]
GpuCount = Annotated[int, Field(ge=1), BeforeValidator(_not_boolean)]
