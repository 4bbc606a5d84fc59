"""Convert a TopoJSON file (world-atlas' Natural Earth 110m land, public domain) into the GeoJSON world
outline the shipment map shows when no tile server is configured
(src/ismit/static/tracking/land-110m.geojson).

Run once when the outline changes; the platform never downloads it:

    npm pack world-atlas && tar xzf world-atlas-*.tgz
    python tools/topojson_to_geojson.py package/land-110m.json src/ismit/static/tracking/land-110m.geojson
"""

from __future__ import annotations

import json
import sys


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Absolute coordinates of every arc (quantized, delta-encoded arcs when the topology has a transform)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            points = []
            for dx, dy in arc:
                x, y = x + dx, y + dy
                points.append((round(x * sx + tx, 3), round(y * sy + ty, 3)))
        else:
            points = [(round(p[0], 3), round(p[1], 3)) for p in arc]
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    """A closed ring from arc indexes (~i, i.e. -i-1, is arc i reversed); shared end points once."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return [list(p) for p in points]


def geometry(obj: dict, arcs) -> dict | None:
    kind = obj["type"]
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r, arcs) for r in obj["arcs"]]}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [[ring(r, arcs) for r in p] for p in obj["arcs"]]}
    return None


def convert(topology: dict) -> dict:
    arcs = decode_arcs(topology)
    features = []
    for obj in topology["objects"].values():
        members = obj["geometries"] if obj["type"] == "GeometryCollection" else [obj]
        for member in members:
            shape = geometry(member, arcs)
            if shape:
                features.append({"type": "Feature", "properties": {}, "geometry": shape})
    return {"type": "FeatureCollection", "features": features}


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as f:
        collection = convert(json.load(f))
    with open(target, "w", encoding="utf-8") as f:
        json.dump(collection, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
