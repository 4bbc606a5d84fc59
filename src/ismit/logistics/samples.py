"""Generated consignments for the benchmark, the demo and tests (pure Python, seeded)."""

from __future__ import annotations

import random
from datetime import date, timedelta

SEA_PORTS = [
    "CNSHA",
    "SGSIN",
    "NLRTM",
    "DEHAM",
    "USLAX",
    "BRSSZ",
    "KEMBA",
    "VNSGN",
    "INNSA",
    "ZADUR",
    "TRIST",
    "MAPTM",
]
AIRPORTS = ["KENBO", "NLAMS", "CNPVG", "AEDXB", "USJFK", "SGSIN", "ETADD", "INBOM"]


def lanes(count: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """`count` distinct (mode, origin, destination) lanes, about seven in ten by sea."""
    rng = random.Random(f"lanes:{seed}")  # noqa: S311 (test data)
    found: list[tuple[str, str, str]] = []
    while len(found) < count:
        mode = "sea" if len(found) < round(count * 0.7) else "air"
        origin, destination = rng.sample(SEA_PORTS if mode == "sea" else AIRPORTS, 2)
        if (mode, origin, destination) not in found:
            found.append((mode, origin, destination))
    return found


def _packages(rng: random.Random, mode: str) -> list[dict]:
    lines = []
    for _ in range(rng.choice((1, 1, 1, 2))):
        kind = rng.random()
        stackable = rng.random() > 0.12
        if kind < 0.55:  # pallets
            length, width = rng.choice(((120, 80), (120, 100), (110, 110)))
            height = rng.randint(60, 170 if mode == "sea" else 150)
            count = rng.randint(1, 6 if mode == "sea" else 2)
            mass = round(rng.uniform(80, 160) * length * width * height / 1e6 * 2.2, 1)
        elif kind < 0.9:  # cartons
            length, width, height = rng.choice(((60, 40, 40), (50, 40, 30), (80, 60, 50)))
            count = rng.randint(5, 80 if mode == "sea" else 30)
            mass = round(rng.uniform(4, 22), 1)
        else:  # crates and machinery
            length, width, height = rng.randint(100, 300), rng.randint(80, 200), rng.randint(60, 180)
            if mode == "air":
                length, width, height = min(length, 220), min(width, 140), min(height, 150)
            count = 1
            mass = round(rng.uniform(150, 350) * length * width * height / 1e6, 1)
        lines.append(
            {
                "count": count,
                "length_cm": length,
                "width_cm": width,
                "height_cm": height,
                "mass_kg": mass,
                "stackable": stackable,
            }
        )
    return lines


def consignments(
    count: int = 1000, lane_count: int = 20, seed: int = 0, week: date | None = None
) -> list[dict]:
    """`count` consignments (optimiser input format) spread evenly over `lane_count` lanes, ready in one
    week: windows open Monday to Saturday and last 2 to 9 days. About 6 % carry dangerous goods, 15 %
    are food, 10 % chemicals, 5 % of sea consignments temperature-controlled."""
    rng = random.Random(f"consignments:{seed}")  # noqa: S311 (test data)
    monday = week or date(2026, 3, 2)
    monday -= timedelta(days=monday.weekday())
    all_lanes = lanes(lane_count, seed)
    owners = [f"MSME-{n:03d}" for n in range(1, 201)]
    out = []
    for n in range(count):
        mode, origin, destination = all_lanes[n % lane_count]
        start = monday + timedelta(days=rng.randint(0, 5))
        roll = rng.random()
        dg = rng.choice(("3", "8", "9", "9", "2.1", "4.1", "5.1", "6.1")) if roll < 0.06 else None
        category = "food" if 0.06 <= roll < 0.21 else "chemicals" if 0.21 <= roll < 0.31 else "general"
        temperature = None
        if mode == "sea" and rng.random() < 0.05:
            temperature = rng.choice(
                ({"min_c": 2, "max_c": 8}, {"min_c": -25, "max_c": -18}, {"min_c": 12, "max_c": 16})
            )
        out.append(
            {
                "id": f"C-{n + 1:04d}",
                "owner": rng.choice(owners),
                "origin": origin,
                "destination": destination,
                "mode": mode,
                "ready_from": start.isoformat(),
                "ready_to": (start + timedelta(days=rng.randint(2, 9))).isoformat(),
                "dangerous_goods": dg,
                "category": category,
                "temperature": temperature,
                "packages": _packages(rng, mode),
            }
        )
    return out
