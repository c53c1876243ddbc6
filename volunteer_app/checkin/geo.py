"""The optional geofence of a check-in: inside or outside an activity's circle, judged on the phone's position."""
from __future__ import annotations

import math

# Beyond this accuracy a position says nothing about the fence.
MAX_USEFUL_ACCURACY_M = 2000


def geo_status(activity, geo: tuple | None) -> tuple[str | None, int | None]:
    """('inside' | 'outside' | 'unknown', accuracy in m) for a fenced activity (an Activity or a gate row with
    lat, lng, radius_m); (None, None) without a fence.

    Only the verdict and the accuracy are kept, never the coordinates. Nonsense (NaN, infinities, out of
    range, accuracy ≤ 0) and positions too vague to judge count as unknown: a signal, not a refusal.
    """
    if activity.lat is None or activity.lng is None or not activity.radius_m:
        return None, None
    try:
        lat, lng, accuracy = (float(v) for v in geo) if geo is not None else (None, None, None)
    except (TypeError, ValueError):
        return "unknown", None
    if lat is None or not all(math.isfinite(v) for v in (lat, lng, accuracy)):
        return "unknown", None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or accuracy <= 0:
        return "unknown", None
    stored_accuracy = int(min(accuracy, 1_000_000))
    if accuracy > MAX_USEFUL_ACCURACY_M:
        return "unknown", stored_accuracy
    distance = _distance_m(activity.lat, activity.lng, lat, lng)
    return ("inside" if distance <= activity.radius_m else "outside"), stored_accuracy


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))
