"""Consolidation figures of `make bench` (standalone: no database, no Django). Prints BENCH lines:

- consolidation_loads / consolidation_lower_bound: loads used by the optimiser on 1,000 generated
  consignments over 20 lanes, and the lower bound (per lane and compatible group, the larger of
  ceil(total volume / usable volume), ceil(total mass / payload) and ceil(non-stackable floor / usable
  floor), for the largest load type of the group; see docs/consolidation.md);
- consolidation_gap_pct: (loads - lower bound) / lower bound, in %;
- consolidation_s: wall time of the optimiser;
- cpsat_loads, cpsat_gap_pct, cpsat_s: the same input solved by OR-Tools CP-SAT, one bin-packing model
  per compatible group with the same constraints, 60 s in all (or "not installed").

Environment: BENCH_CONSIGNMENTS (default 1000), BENCH_LANES (20), BENCH_SEED (0), BENCH_CPSAT_S (60).
"""

from __future__ import annotations

import math
import os
import time

from ismit.logistics import samples
from ismit.logistics.optimiser import (
    Consignment,
    _unplaceable_reason,
    candidate_types,
    compatible,
    component_lower_bound,
    components,
    group_key,
    optimise,
    parse_problem,
)

COUNT = int(os.environ.get("BENCH_CONSIGNMENTS", "1000"))
LANES = int(os.environ.get("BENCH_LANES", "20"))
SEED = int(os.environ.get("BENCH_SEED", "0"))
CPSAT_S = float(os.environ.get("BENCH_CPSAT_S", "60"))

problem = parse_problem({"consignments": samples.consignments(COUNT, LANES, SEED), "seed": SEED})
sf = problem.stowage_factor

start = time.perf_counter()
plan = optimise(problem, time_limit_s=30)
elapsed = time.perf_counter() - start
bound = plan["summary"]["lower_bound"]
loads = plan["summary"]["loads"]
print(f"BENCH consolidation_consignments {len(problem.consignments)}")
print(f"BENCH consolidation_unplaced {plan['summary']['unplaced']}")
print(f"BENCH consolidation_loads {loads}")
print(f"BENCH consolidation_lower_bound {bound}")
print(f"BENCH consolidation_gap_pct {100 * (loads - bound) / bound:.2f}")
print(f"BENCH consolidation_s {elapsed:.3f}")


def solve_cpsat(part: list[Consignment], types, upper: int, seconds: float) -> tuple[int, bool]:
    """Fewest loads for one compatible group (then the cheapest types) with at most `upper` loads;
    returns (loads, proved optimal), loads -1 when no solution was found in time."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    n, bins = len(part), range(upper)
    mass = [math.ceil(c.mass_kg) for c in part]
    stack = [math.ceil(c.stackable_volume_m3 * 1000) for c in part]  # litres
    floor = [math.ceil(c.floor_m2 * 100) for c in part]  # dm2
    fits = [
        {
            k
            for k, t in enumerate(types)
            if all(t.fits_package(p.length_cm, p.width_cm, p.height_cm) for p in c.packages)
        }
        for c in part
    ]
    x = {(i, b): model.new_bool_var(f"x{i}_{b}") for i in range(n) for b in bins}
    kind = {(b, k): model.new_bool_var(f"t{b}_{k}") for b in bins for k in range(len(types))}
    used = [model.new_bool_var(f"y{b}") for b in bins]
    for i in range(n):
        model.add_exactly_one(x[i, b] for b in bins)
    for b in bins:
        model.add(sum(kind[b, k] for k in range(len(types))) == used[b])
        if b:
            model.add(used[b] <= used[b - 1])
        for i in range(n):
            model.add(x[i, b] <= sum(kind[b, k] for k in fits[i]))
        for k, t in enumerate(types):
            height_dm = t.height_cm / 10
            model.add(sum(mass[i] * x[i, b] for i in range(n)) <= int(t.payload_kg)).only_enforce_if(
                kind[b, k]
            )
            model.add(
                sum((stack[i] + math.ceil(floor[i] * height_dm)) * x[i, b] for i in range(n))
                <= int(t.volume_m3 * sf * 1000)
            ).only_enforce_if(kind[b, k])
            model.add(
                sum(floor[i] * x[i, b] for i in range(n)) <= int(t.floor_m2 * sf * 100)
            ).only_enforce_if(kind[b, k])
        for i in range(n):
            for j in range(i + 1, n):
                if not compatible(part[i], part[j]):
                    model.add(x[i, b] + x[j, b] <= 1)
    price = [int(t.price) for t in types]
    model.minimize(10**7 * sum(used) + sum(price[k] * kind[b, k] for b in bins for k in range(len(types))))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = SEED
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return -1, False
    return sum(int(solver.value(u)) for u in used), status == cp_model.OPTIMAL


try:
    import ortools  # noqa: F401
except ImportError:
    print("BENCH cpsat_gap_pct not-installed (pip install ortools, or the bench extra)")
    print("BENCH cpsat_s not-installed")
else:
    groups: dict[tuple, list[Consignment]] = {}
    for c in problem.consignments:
        types = candidate_types(problem.load_types, c.mode, c.temperature is not None)
        if _unplaceable_reason(c, types, sf) is None:
            groups.setdefault(group_key(c), []).append(c)
    parts = [(key, part) for key in sorted(groups) for part in components(groups[key])]
    # The optimiser's loads per part give each model its number of bins (one spare).
    load_of = {cid: n for n, load in enumerate(plan["loads"]) for cid in load["consignments"]}
    start = time.perf_counter()
    total, optimal, unsolved = 0, 0, 0
    for n, (key, part) in enumerate(parts):
        types = candidate_types(problem.load_types, key[0], key[3])
        upper = len({load_of[c.id] for c in part}) + 1
        left = CPSAT_S - (time.perf_counter() - start)
        if component_lower_bound(part, types, sf) == upper - 1 or left <= 0:
            total += upper - 1  # the optimiser's count is already the bound, or no time left
            continue
        found, proved = solve_cpsat(part, types, upper, left / (len(parts) - n))
        if found < 0:  # no solution in its share of the time: count the optimiser's loads
            unsolved += 1
            found = upper - 1
        total += found
        optimal += proved
    cpsat_elapsed = time.perf_counter() - start
    print(f"BENCH cpsat_loads {total}")
    print(f"BENCH cpsat_groups {len(parts)}")
    print(f"BENCH cpsat_groups_proved_optimal {optimal}")
    print(f"BENCH cpsat_groups_without_solution {unsolved}")
    print(f"BENCH cpsat_gap_pct {100 * (total - bound) / bound:.2f}")
    print(f"BENCH cpsat_s {cpsat_elapsed:.3f}")
