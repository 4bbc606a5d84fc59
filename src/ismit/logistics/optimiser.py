"""Consolidation optimiser: groups consignments into containers or air ULDs.

Pure Python (no Django), deterministic for a given input and seed. The method and its limits are
explained in docs/consolidation.md. In short:

1. the input is read and checked in consignments.py (`parse_problem`, re-exported here). Every
   consignment is checked against the load types of its mode (every package must pass the door and
   stand inside, "this side up"; the consignment alone must fit the payload, the usable volume and the
   floor); one that fits none is *unplaced* with a reason. A consignment is never split.
2. the rest is partitioned into groups that can never share a load: mode, origin, destination and
   temperature control (reefer or dry). Inside a group, the remaining rules are pairwise (dangerous
   goods segregation, food with chemicals or toxic goods, ready-date windows, temperature ranges) and
   kept as a bit mask of conflicts per consignment: intervals that overlap pairwise share a point
   (Helly's theorem in one dimension), so a load whose members are pairwise compatible has a common
   ship date and a common temperature set point.
3. first-fit decreasing into the group's working load type, then local search under an iteration
   budget and a time limit: empty the least-filled load into the others (best fit, then swaps that
   eject a smaller consignment back into the pool), until the lower bound is reached or no load can
   be emptied; then each load takes the cheapest load type that holds it, and single moves between
   loads are made when they lower the total price.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from .consignments import (
    CATEGORIES,
    CHEMICALS,
    DG_CLASSES,
    DG_NOT_WITH_FOOD,
    FOOD,
    Consignment,
    InputError,
    Package,
    Problem,
    parse_consignment,
    parse_problem,
)
from .loads import AIR, SEA, LoadType

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MAX_ITERATIONS = 200_000

#: classes that are not consolidated: explosives, infectious substances, radioactive material travel
#: in a load of their own
DG_ALONE = frozenset({"1", "6.2", "7"})
#: Pairs that IMDG 7.2.4 segregates ("away from" or stricter); any of them keeps two classes out of one
#: load. Pairs not listed ("X" in the table, and every pair with class 9) may share a load.
_SEGREGATION = {
    "2.1": "3 4.1 4.2 5.1 5.2 8",
    "2.2": "3 4.2 5.2",
    "2.3": "3 4.2 5.2",
    "3": "4.2 4.3 5.1 5.2",
    "4.1": "4.2 5.1 5.2 8",
    "4.2": "4.3 5.1 5.2 6.1 8",
    "4.3": "5.1 5.2 8",
    "5.1": "5.2 6.1 8",
    "5.2": "6.1 8",
}
SEGREGATED: frozenset[frozenset[str]] = frozenset(
    frozenset((a, b)) for a, others in _SEGREGATION.items() for b in others.split()
)


# ------------------------------------------------------------------------------------------ the rules


def compatible(a: Consignment, b: Consignment) -> bool:
    """Whether two consignments of one group may share a load (dangerous goods, food, dates, temperature)."""
    if a.dangerous_goods in DG_ALONE or b.dangerous_goods in DG_ALONE:
        return False
    if (
        a.dangerous_goods
        and b.dangerous_goods
        and frozenset((a.dangerous_goods, b.dangerous_goods)) in SEGREGATED
    ):
        return False
    for x, y in ((a, b), (b, a)):
        if x.category == FOOD and (y.category == CHEMICALS or y.dangerous_goods in DG_NOT_WITH_FOOD):
            return False
    if max(a.ready_from, b.ready_from) > min(a.ready_to, b.ready_to):
        return False
    if (a.temperature is None) != (b.temperature is None):
        return False
    return not (
        a.temperature
        and b.temperature
        and max(a.temperature[0], b.temperature[0]) > min(a.temperature[1], b.temperature[1])
    )


def group_key(c: Consignment) -> tuple[str, str, str, bool]:
    """Consignments with different keys never share a load."""
    return (c.mode, c.origin, c.destination, c.temperature is not None)


def candidate_types(load_types: tuple[LoadType, ...], mode: str, temperature_control: bool) -> list[LoadType]:
    return [t for t in load_types if t.mode == mode and t.temperature_control == temperature_control]


def _ceil(x: float) -> int:
    return max(0, math.ceil(x - 1e-9))


def components(consignments: list[Consignment]) -> list[list[Consignment]]:
    """The connected components of the compatibility graph of one group, in input order. A load's
    members are pairwise compatible, so a load never spans two components: each is solved, and bounded,
    on its own."""
    parent = list(range(len(consignments)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(consignments):
        for j in range(i + 1, len(consignments)):
            if compatible(a, consignments[j]):
                ri, rj = root(i), root(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    found: dict[int, list[Consignment]] = {}
    for i, c in enumerate(consignments):
        found.setdefault(root(i), []).append(c)
    return list(found.values())


def _capacity_bound(consignments: list[Consignment], types: list[LoadType], stowage_factor: float) -> int:
    if not consignments:
        return 0
    mass = sum(c.mass_kg for c in consignments) / max(t.payload_kg for t in types)
    volume = sum(c.volume_m3 for c in consignments) / max(t.usable_volume_m3(stowage_factor) for t in types)
    floor = sum(c.floor_m2 for c in consignments) / max(t.floor_m2 * stowage_factor for t in types)
    # Nothing stands on a non-stackable package: it takes its floor times the inner height. Its share of
    # a load of type t is (stackable volume + floor x height_t) / usable volume_t, at least its smallest
    # share over the types, and the shares in one load add up to at most 1.
    space = sum(
        min(
            (c.stackable_volume_m3 + c.floor_m2 * t.height_cm / 100) / t.usable_volume_m3(stowage_factor)
            for t in types
        )
        for c in consignments
    )
    return max(1, _ceil(mass), _ceil(volume), _ceil(floor), _ceil(space))


def _food_side(c: Consignment) -> int:
    """0 food, 1 chemicals or toxic/corrosive goods (never with food), 2 neither."""
    if c.category == FOOD:
        return 0
    return 1 if c.category == CHEMICALS or c.dangerous_goods in DG_NOT_WITH_FOOD else 2


def component_lower_bound(
    consignments: list[Consignment], types: list[LoadType], stowage_factor: float
) -> int:
    """Loads needed at least by consignments that may share loads. The capacity bound of a set is the
    larger of ceil(mass / largest payload), ceil(volume / largest usable volume) and ceil(floor of
    non-stackable packages / largest usable floor). Classes that can never share a load need loads of
    their own, so the sum of their bounds is a bound too; the result is the largest of: the whole set;
    food + chemicals; ready before day d + ready from day d (windows ending before d never meet those
    starting on or after d), for every start date d; and the four classes of both splits together."""
    if not consignments or not types:
        return 0
    best = _capacity_bound(consignments, types, stowage_factor)
    starts = sorted({c.ready_from for c in consignments})[1:]
    for day in [None, *starts]:
        if day is None:
            halves = [consignments]
        else:
            halves = [
                [c for c in consignments if c.ready_to < day],
                [c for c in consignments if c.ready_from >= day],
            ]
        by_time = sum(_capacity_bound(h, types, stowage_factor) for h in halves)
        by_both = sum(
            _capacity_bound([c for c in h if _food_side(c) == side], types, stowage_factor)
            for h in halves
            for side in (0, 1)
        )
        best = max(best, by_time, by_both)
    return best


def group_lower_bound(consignments: list[Consignment], types: list[LoadType], stowage_factor: float) -> int:
    """Sum of the bounds of the group's compatible components."""
    return sum(component_lower_bound(part, types, stowage_factor) for part in components(consignments))


def lower_bound(problem: Problem, consignments: list[Consignment] | None = None) -> int:
    """Sum of the group lower bounds over the given (by default every) consignment."""
    groups: dict[tuple, list[Consignment]] = {}
    for c in problem.consignments if consignments is None else consignments:
        groups.setdefault(group_key(c), []).append(c)
    return sum(
        group_lower_bound(
            members, candidate_types(problem.load_types, key[0], key[3]), problem.stowage_factor
        )
        for key, members in groups.items()
    )


# ---------------------------------------------------------------------------------------- the search


@dataclass(eq=False)
class _Item:
    index: int
    c: Consignment
    mass: float
    volume: float
    stack_volume: float
    floor: float
    fits: frozenset[str]  # codes of load types that hold it alone
    bit: int = 0
    conflicts: int = 0
    size: float = 0.0


class _Caps:
    __slots__ = ("floor", "height_m", "mass", "price", "type", "volume")

    def __init__(self, t: LoadType, sf: float) -> None:
        self.type = t
        self.mass = t.payload_kg
        self.volume = t.volume_m3 * sf
        self.floor = t.floor_m2 * sf
        self.height_m = t.height_cm / 100
        self.price = t.price

    def holds(self, mass: float, stack_volume: float, floor: float) -> bool:
        eps = 1e-9
        return (
            mass <= self.mass + eps
            and stack_volume + floor * self.height_m <= self.volume + eps
            and floor <= self.floor + eps
        )

    def fill(self, mass: float, stack_volume: float, floor: float) -> float:
        return max(mass / self.mass, (stack_volume + floor * self.height_m) / self.volume, floor / self.floor)


@dataclass(eq=False)
class _Load:
    caps: _Caps
    members: list[_Item] = field(default_factory=list)
    mass: float = 0.0
    stack_volume: float = 0.0
    floor: float = 0.0
    mask: int = 0

    def can_add(self, item: _Item) -> bool:
        return (
            not (item.conflicts & self.mask)
            and self.caps.type.code in item.fits
            and self.caps.holds(
                self.mass + item.mass, self.stack_volume + item.stack_volume, self.floor + item.floor
            )
        )

    def can_swap(self, out: _Item, item: _Item) -> bool:
        return (
            not (item.conflicts & (self.mask & ~out.bit))
            and self.caps.type.code in item.fits
            and self.caps.holds(
                self.mass - out.mass + item.mass,
                self.stack_volume - out.stack_volume + item.stack_volume,
                self.floor - out.floor + item.floor,
            )
        )

    def fill_with(self, item: _Item | None = None, out: _Item | None = None) -> float:
        mass, stack, floor = self.mass, self.stack_volume, self.floor
        if item is not None:
            mass, stack, floor = mass + item.mass, stack + item.stack_volume, floor + item.floor
        if out is not None:
            mass, stack, floor = mass - out.mass, stack - out.stack_volume, floor - out.floor
        return self.caps.fill(mass, stack, floor)

    def add(self, item: _Item) -> None:
        self.members.append(item)
        self.mass += item.mass
        self.stack_volume += item.stack_volume
        self.floor += item.floor
        self.mask |= item.bit

    def remove(self, item: _Item) -> None:
        self.members.remove(item)
        self._recount()

    def _recount(self) -> None:
        self.mass = sum(m.mass for m in self.members)
        self.stack_volume = sum(m.stack_volume for m in self.members)
        self.floor = sum(m.floor for m in self.members)
        self.mask = 0
        for m in self.members:
            self.mask |= m.bit


class _Budget:
    def __init__(self, iterations: int, deadline: float) -> None:
        self.left = iterations
        self.deadline = deadline
        self.stopped_by: str | None = None

    def spend(self) -> bool:
        self.left -= 1
        if self.left < 0:
            self.stopped_by = self.stopped_by or "iterations"
            return False
        if self.left % 256 == 0 and time.perf_counter() > self.deadline:
            self.stopped_by = "time_limit"
            self.left = -1
            return False
        return True


def _unplaceable_reason(c: Consignment, types: list[LoadType], sf: float) -> str | None:
    """Why no load type of its mode holds the consignment alone, or None if one does."""
    if not types:
        kind = "temperature-controlled" if c.temperature is not None else "dry"
        return f"no {kind} {c.mode} load type is available"
    for i, p in enumerate(c.packages):
        if not any(t.fits_package(p.length_cm, p.width_cm, p.height_cm) for t in types):
            return (
                f"packages[{i}] ({p.length_cm:g} x {p.width_cm:g} x {p.height_cm:g} cm) "
                "does not fit the door "
                f"or the inner height of any {c.mode} load type"
            )
    fitting = [
        t for t in types if all(t.fits_package(p.length_cm, p.width_cm, p.height_cm) for p in c.packages)
    ]
    if not fitting:
        return f"no single {c.mode} load type takes every package through its door"
    for t in fitting:
        if _Caps(t, sf).holds(c.mass_kg, c.stackable_volume_m3, c.floor_m2):
            return None
    best_mass = max(t.payload_kg for t in fitting)
    if c.mass_kg > best_mass:
        return f"mass {c.mass_kg:,.0f} kg exceeds the largest payload ({best_mass:,.0f} kg); split it"
    return (
        "needs more than the largest usable volume or floor "
        f"({max(t.usable_volume_m3(sf) for t in fitting):.1f} m3 "
        f"at stowage factor {sf:g}); split it"
    )


def _items(consignments: list[Consignment], types: list[LoadType], sf: float) -> list[_Item]:
    items = []
    for c in consignments:
        fits = frozenset(
            t.code
            for t in types
            if all(t.fits_package(p.length_cm, p.width_cm, p.height_cm) for p in c.packages)
            and _Caps(t, sf).holds(c.mass_kg, c.stackable_volume_m3, c.floor_m2)
        )
        items.append(_Item(len(items), c, c.mass_kg, c.volume_m3, c.stackable_volume_m3, c.floor_m2, fits))
    for i, item in enumerate(items):
        item.bit = 1 << i
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if not compatible(a.c, b.c):
                a.conflicts |= b.bit
                b.conflicts |= a.bit
    return items


def _working_type(items: list[_Item], types: list[LoadType], sf: float) -> _Caps:
    """The load type that needs the fewest loads by the group's totals (then the larger volume)."""
    mass = sum(i.mass for i in items)
    volume = sum(i.volume for i in items)

    def need(t: LoadType) -> tuple:
        holds = sum(1 for i in items if t.code in i.fits)
        return (
            -holds,
            max(_ceil(mass / t.payload_kg), _ceil(volume / t.usable_volume_m3(sf))),
            -t.volume_m3,
            t.code,
        )

    return _Caps(min(types, key=need), sf)


def _first_fit_decreasing(items: list[_Item], caps: dict[str, _Caps], working: _Caps) -> list[_Load]:
    loads: list[_Load] = []
    for item in sorted(items, key=lambda i: (-i.size, i.index)):
        for load in loads:
            if load.can_add(item):
                load.add(item)
                break
        else:
            own = (
                working
                if working.type.code in item.fits
                else max((caps[code] for code in item.fits), key=lambda k: (k.volume, k.mass, k.type.code))
            )
            load = _Load(own)
            load.add(item)
            loads.append(load)
    return loads


def _reinsert(
    pool: list[_Item], loads: list[_Load], rng: random.Random, budget: _Budget, max_steps: int
) -> list[_Item]:
    """Put the pool's consignments into the loads: best fit, else swap with a smaller member that goes
    back to the pool. Returns what is left in the pool (empty on success)."""
    pool = sorted(pool, key=lambda i: (-i.size, i.index))
    steps = 0
    while pool:
        steps += 1
        if steps > max_steps or not budget.spend():
            return pool
        item = pool.pop(0)
        best, best_fill = None, -1.0
        for load in loads:
            if load.can_add(item):
                fill = load.fill_with(item)
                if fill > best_fill:
                    best, best_fill = load, fill
        if best is not None:
            best.add(item)
            continue
        swaps = []
        for n, load in enumerate(loads):
            for out in load.members:
                if out.size < item.size and load.can_swap(out, item):
                    swaps.append((-load.fill_with(item, out), out.size, n, out.index, load, out))
        if not swaps:
            pool.insert(0, item)
            return pool
        swaps.sort(key=lambda s: s[:4])
        _, _, _, _, load, out = swaps[rng.randrange(min(3, len(swaps)))]
        load.remove(out)
        load.add(item)
        pool.append(out)
        pool.sort(key=lambda i: (-i.size, i.index))
    return pool


def _snapshot(loads: list[_Load]) -> list[tuple[_Caps, list[_Item]]]:
    return [(load.caps, list(load.members)) for load in loads]


def _restore(snapshot: list[tuple[_Caps, list[_Item]]]) -> list[_Load]:
    loads = []
    for caps, members in snapshot:
        load = _Load(caps)
        for m in members:
            load.add(m)
        loads.append(load)
    return loads


def _eliminate(
    loads: list[_Load], bound: int, rng: random.Random, budget: _Budget, tries: int = 8
) -> list[_Load]:
    """Empty the least-filled loads into the others while the lower bound is not reached."""
    n_items = sum(len(load.members) for load in loads)
    while len(loads) > bound and budget.left > 0:
        order = sorted(range(len(loads)), key=lambda n: (loads[n].fill_with(), n))
        for n in order[: min(len(order), 10)]:
            done = False
            for _ in range(tries):
                saved = _snapshot(loads)
                target = loads[n]
                others = loads[:n] + loads[n + 1 :]
                left = _reinsert(list(target.members), others, rng, budget, max_steps=4 * n_items + 10)
                if not left:
                    loads, done = others, True
                    break
                # Keep the partial emptying when what is left goes back into the target.
                rest = _Load(target.caps)
                if all(rest.can_add(i) and (rest.add(i) or True) for i in left):
                    loads = [*others[:n], rest, *others[n:]]
                else:
                    loads = _restore(saved)
                if budget.left <= 0:
                    break
            if done or budget.left <= 0:
                break
        else:
            return loads
        if not done:
            return loads
    return loads


def _cheapest(members: list[_Item], caps: list[_Caps]) -> _Caps | None:
    mass = sum(m.mass for m in members)
    stack = sum(m.stack_volume for m in members)
    floor = sum(m.floor for m in members)
    for k in caps:  # sorted by price, then volume
        if all(k.type.code in m.fits for m in members) and k.holds(mass, stack, floor):
            return k
    return None


def _reduce_cost(loads: list[_Load], caps: list[_Caps], budget: _Budget) -> list[_Load]:
    """Each load takes the cheapest type that holds it; then single moves that lower the total price."""
    for load in loads:
        cheaper = _cheapest(load.members, caps)
        if cheaper is not None and cheaper.price < load.caps.price:
            load.caps = cheaper
    improved = True
    while improved and budget.left > 0:
        improved = False
        for a in loads:
            for item in sorted(a.members, key=lambda i: i.index):
                if len(a.members) == 1 or not budget.spend():
                    break
                rest = [m for m in a.members if m is not item]
                a_type = _cheapest(rest, caps)
                if a_type is None:
                    continue
                for b in loads:
                    if b is a or item.conflicts & b.mask:
                        continue
                    b_type = _cheapest([*b.members, item], caps)
                    if b_type is None:
                        continue
                    if a_type.price + b_type.price < a.caps.price + b.caps.price:
                        a.remove(item)
                        a.caps = a_type
                        b.add(item)
                        b.caps = b_type
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return loads


def _solve_group(
    consignments: list[Consignment],
    types: list[LoadType],
    sf: float,
    bound: int,
    rng: random.Random,
    budget: _Budget,
) -> list[tuple[LoadType, list[Consignment]]]:
    items = _items(consignments, types, sf)
    caps = {t.code: _Caps(t, sf) for t in types}
    working = _working_type(items, types, sf)
    for item in items:
        item.size = working.fill(item.mass, item.stack_volume, item.floor)
    loads = _first_fit_decreasing(items, caps, working)
    loads = _eliminate(loads, bound, rng, budget)
    by_price = sorted(caps.values(), key=lambda k: (k.price, k.volume, k.type.code))
    loads = _reduce_cost(loads, by_price, budget)
    return [(load.caps.type, sorted((m.c for m in load.members), key=lambda c: c.id)) for load in loads]


# ---------------------------------------------------------------------------------------- the output


def cost_shares(total: Decimal, consignments: list[Consignment]) -> list[Decimal]:
    """The load's price split by chargeable measure, in cents; the shares add up to the price exactly
    (the cents left by rounding down go to the largest remainders, ties by consignment id)."""
    measures = [Decimal(str(round(c.chargeable(), 6))) for c in consignments]
    whole = sum(measures)
    if whole <= 0:
        measures, whole = [Decimal(1)] * len(consignments), Decimal(len(consignments))
    cent = Decimal("0.01")
    exact = [total * m / whole for m in measures]
    shares = [e.quantize(cent, rounding=ROUND_DOWN) for e in exact]
    left = int(((total - sum(shares)) / cent).to_integral_value())
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - shares[i]), consignments[i].id))
    for i in order[:left]:
        shares[i] += cent
    return shares


def _load_dict(number: int, t: LoadType, members: list[Consignment], problem: Problem) -> dict:
    mass = sum(c.mass_kg for c in members)
    volume = sum(c.volume_m3 for c in members)
    floor = sum(c.floor_m2 for c in members)
    ship = max(c.ready_from for c in members)
    shares = cost_shares(t.price, members)
    return {
        "id": f"L{number:03d}",
        "type": t.code,
        "mode": t.mode,
        "origin": members[0].origin,
        "destination": members[0].destination,
        "ship_date": ship.isoformat(),
        "consignments": [c.id for c in members],
        "mass_kg": round(mass, 1),
        "volume_m3": round(volume, 3),
        "mass_pct": round(100 * mass / t.payload_kg, 1),
        "volume_pct": round(100 * volume / t.volume_m3, 1),
        "floor_pct": round(100 * floor / t.floor_m2, 1),
        "price": str(t.price),
        "shares": [
            {
                "consignment": c.id,
                "owner": c.owner,
                "chargeable": round(c.chargeable(), 3),
                "unit": "kg" if c.mode == AIR else "revenue_tonne",
                "amount": str(share),
            }
            for c, share in zip(members, shares, strict=True)
        ],
        "manifest": [
            {
                "consignment": c.id,
                "owner": c.owner,
                "packages": c.package_count,
                "mass_kg": round(c.mass_kg, 1),
                "volume_m3": round(c.volume_m3, 3),
                "dangerous_goods": c.dangerous_goods,
                "category": c.category,
                "temperature": None
                if c.temperature is None
                else {"min_c": c.temperature[0], "max_c": c.temperature[1]},
                "ready_from": c.ready_from.isoformat(),
                "ready_to": c.ready_to.isoformat(),
            }
            for c in members
        ],
    }


def optimise(
    problem: Problem,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
) -> dict:
    """The plan for a problem (format in docs/consolidation.md). Every consignment is in exactly one
    load or in `unplaced` with a reason. Deterministic for the same input and seed unless the time
    limit stops the search (`summary.stopped_by` says which limit ended it)."""
    started = time.perf_counter()
    budget = _Budget(max_iterations, started + time_limit_s)
    sf = problem.stowage_factor
    unplaced: list[dict] = []
    groups: dict[tuple, list[Consignment]] = {}
    for c in problem.consignments:
        types = candidate_types(problem.load_types, c.mode, c.temperature is not None)
        reason = _unplaceable_reason(c, types, sf)
        if reason:
            unplaced.append({"consignment": c.id, "owner": c.owner, "reason": reason})
        else:
            groups.setdefault(group_key(c), []).append(c)
    solved: list[tuple[LoadType, list[Consignment]]] = []
    bound = 0
    for key in sorted(groups):
        types = candidate_types(problem.load_types, key[0], key[3])
        for n, part in enumerate(components(groups[key])):
            part_bound = component_lower_bound(part, types, sf)
            bound += part_bound
            rng = random.Random(f"{problem.seed}:{':'.join(map(str, key))}:{n}")  # noqa: S311 (search, not secrets)
            solved.extend(_solve_group(part, types, sf, part_bound, rng, budget))
    loads = [_load_dict(n, t, members, problem) for n, (t, members) in enumerate(solved, start=1)]
    price = sum((Decimal(load["price"]) for load in loads), Decimal(0))
    per_type = Counter(load["type"] for load in loads)
    return {
        "summary": {
            "consignments": len(problem.consignments),
            "placed": len(problem.consignments) - len(unplaced),
            "unplaced": len(unplaced),
            "loads": len(loads),
            "loads_by_type": dict(sorted(per_type.items())),
            "lower_bound": bound,
            "price": str(price),
            "currency": problem.currency,
            "stowage_factor": sf,
            "seed": problem.seed,
            "stopped_by": budget.stopped_by or "converged",
            "elapsed_s": round(time.perf_counter() - started, 3),
        },
        "load_types": [t.as_dict() for t in problem.load_types],
        "loads": loads,
        "unplaced": unplaced,
    }


__all__ = [
    "AIR",
    "CATEGORIES",
    "DG_CLASSES",
    "SEA",
    "Consignment",
    "InputError",
    "Package",
    "Problem",
    "compatible",
    "component_lower_bound",
    "components",
    "cost_shares",
    "group_lower_bound",
    "lower_bound",
    "optimise",
    "parse_consignment",
    "parse_problem",
]
