"""Where offices are: distances, the offices near one, and a ``LAT,LON`` parameter."""

from __future__ import annotations

import math

from features.errors import ParameterError
from features.offices import Office, OfficeRegistry

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def office_distance_km(office: Office, lat: float | None, lon: float | None) -> float | None:
    """Distance from a point to an office, None when either has no location."""
    if lat is None or lon is None or office.lat is None or office.lon is None:
        return None
    return haversine_km(lat, lon, office.lat, office.lon)


def nearby_offices(
    office: Office,
    offices: OfficeRegistry,
    within_km: float,
    start: tuple[float, float] | None = None,
) -> list[Office]:
    """The office itself, then the others within ``within_km`` of ``start`` (default: the
    office), nearest first."""
    lat, lon = start if start is not None else (office.lat, office.lon)
    others = []
    for other in offices:
        distance = office_distance_km(other, lat, lon)
        if other.id != office.id and distance is not None and distance <= within_km:
            others.append((distance, other.id, other))
    return [office, *(o for _, _, o in sorted(others, key=lambda x: (x[0], x[1])))]


def start_point(office: Office, near: tuple[float, float] | None) -> tuple[float, float] | None:
    """Where the citizen sets out from: their location when given, else the chosen office."""
    if near is not None:
        return near
    if office.lat is None or office.lon is None:
        return None
    return office.lat, office.lon


def parse_near(text: str, parameter: str = "near") -> tuple[float, float]:
    """``"30.25,120.21"`` → (lat, lon), or a ParameterError naming ``parameter``."""
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lat = lon = None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParameterError(parameter, f"expected LAT,LON in degrees, got {text[:40]!r}")
    return lat, lon
