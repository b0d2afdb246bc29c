"""Compute Engine's regions, their zones, and the subnet range an auto-mode network gets in each.

The table is what Google answered for a project's auto-mode network and aggregated subnetwork
list (zones per region, `10.N.0.0/20` per region; `me-central2` gets no auto subnet).
"""

from __future__ import annotations

# (region, zone suffixes, second octet of its auto-mode range or 0 for none)
_TABLE: tuple[tuple[str, str, int], ...] = (
    ("africa-south1", "abc", 218),
    ("asia-east1", "abc", 140),
    ("asia-east2", "abc", 170),
    ("asia-northeast1", "abc", 146),
    ("asia-northeast2", "abc", 174),
    ("asia-northeast3", "abc", 178),
    ("asia-south1", "abc", 160),
    ("asia-south2", "abc", 190),
    ("asia-southeast1", "abc", 148),
    ("asia-southeast2", "abc", 184),
    ("australia-southeast1", "abc", 152),
    ("australia-southeast2", "abc", 192),
    ("europe-central2", "abc", 186),
    ("europe-north1", "abc", 166),
    ("europe-north2", "abc", 226),
    ("europe-southwest1", "abc", 204),
    ("europe-west1", "bcd", 132),
    ("europe-west10", "abc", 214),
    ("europe-west12", "abc", 210),
    ("europe-west2", "abc", 154),
    ("europe-west3", "abc", 156),
    ("europe-west4", "abc", 164),
    ("europe-west6", "abc", 172),
    ("europe-west8", "abc", 198),
    ("europe-west9", "abc", 200),
    ("me-central1", "abc", 212),
    ("me-central2", "abc", 0),
    ("me-west1", "abc", 208),
    ("northamerica-northeast1", "abc", 162),
    ("northamerica-northeast2", "abc", 188),
    ("northamerica-south1", "abc", 224),
    ("southamerica-east1", "abc", 158),
    ("southamerica-west1", "abc", 194),
    ("us-central1", "abcf", 128),
    ("us-east1", "bcd", 142),
    ("us-east4", "abc", 150),
    ("us-east5", "abc", 202),
    ("us-south1", "abc", 206),
    ("us-west1", "abc", 138),
    ("us-west2", "abc", 168),
    ("us-west3", "abc", 180),
    ("us-west4", "abc", 182),
)
REGIONS: dict[str, tuple[str, ...]] = {
    region: tuple(f"{region}-{suffix}" for suffix in suffixes) for region, suffixes, _ in _TABLE
}
ZONES: dict[str, str] = {zone: region for region, zones in REGIONS.items() for zone in zones}
AUTO_RANGES: dict[str, str] = {region: f"10.{octet}.0.0/20" for region, _, octet in _TABLE if octet}
AUTO_MODE_BLOCK = "10.128.0.0/9"  # what every auto-mode subnet range falls in
