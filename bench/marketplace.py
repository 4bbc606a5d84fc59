"""Marketplace benchmark: matching one request for quotation against 10,000 offerings on PostgreSQL.

Standalone: creates a fresh database on BENCH_PG (default postgres://postgres@127.0.0.1:5432), migrates it,
loads the reference data, generates BENCH_OFFERINGS offerings (default 10,000) of 500 providers with their
lanes and rate cards, then times `matching.match_offerings` (the query and the prefetch of the rate lines,
model instances built) for a sea-freight request Abidjan → Marseille, and prices every match. Prints:

- BENCH rfq_match_ms: the median time of one match (goal < 50 ms);
- BENCH rfq_match_p95_ms, BENCH rfq_match_offerings (how many offerings matched);
- BENCH rfq_match_and_price_ms: match plus an indicative price for every match.

Environment: BENCH_PG, BENCH_OFFERINGS (10000), BENCH_RUNS (50), BENCH_SEED (0); BENCH_EXPLAIN=1 prints
the query plan.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ISMIT = str(Path(sys.executable).parent / "ismit")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

SCRIPT = r"""
import datetime as dt, os, random, statistics, time
from decimal import Decimal
from django.db import connection, transaction
from django.utils import timezone
from ismit.accounts.models import Organisation
from ismit.marketplace.cargo import CargoSpec
from ismit.marketplace.matching import match_offerings
from ismit.marketplace.models import Lane, Provider, RateLine, ServiceOffering
from ismit.marketplace.pricing import price_offering

COUNT = int(os.environ.get("BENCH_OFFERINGS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
rng = random.Random(int(os.environ.get("BENCH_SEED", "0")))
today = timezone.localdate()

COUNTRIES = ["CI", "SN", "GH", "NG", "KE", "TZ", "ZA", "MA", "EG", "FR", "BE", "NL", "DE", "ES", "IT",
             "GB", "US", "CN", "IN", "AE", "BR", "TR", "VN", "BD", "PK"]
PORTS = {"CI": ["CIABJ", "CISPY"], "FR": ["FRMRS", "FRLEH", "FRCDG"], "SN": ["SNDKR"], "KE": ["KEMBA"],
         "NL": ["NLRTM", "NLAMS"], "BE": ["BEANR"]}
TYPES = ["forwarder", "carrier", "broker", "warehouse", "insurer", "bank"]
SERVICES = [("carriage", ["forwarder", "carrier"], 0.6), ("customs_brokerage", ["broker"], 0.15),
            ("warehousing", ["warehouse"], 0.05), ("insurance", ["insurer"], 0.1),
            ("trade_finance", ["bank"], 0.1)]

with transaction.atomic():
    orgs = Organisation.objects.bulk_create(
        Organisation(legal_name=f"Provider {n:03d}", kind="provider", country=rng.choice(COUNTRIES),
                     city="X", provider_types=TYPES,
                     verification_status="verified" if n % 25 else "pending")
        for n in range(500))
    Provider.objects.bulk_create(
        Provider(organisation=o, status="suspended" if n % 40 == 0 else "active") for n, o in enumerate(orgs))
    offerings = []
    for n in range(COUNT):
        service = rng.choices(SERVICES, weights=[s[2] for s in SERVICES])[0][0]
        start = today - dt.timedelta(days=rng.randint(0, 200))
        offerings.append(ServiceOffering(
            organisation=rng.choice(orgs), name=f"Offering {n}", service_type=service,
            modes=rng.choice([["1"], ["4"], ["3"], ["1", "3"], []]) if service == "carriage" else [],
            max_mass_kg=rng.choice([None, Decimal(2000), Decimal(20000), Decimal(28000)]),
            max_volume_m3=rng.choice([None, Decimal(33), Decimal(67)]),
            dangerous_goods=rng.random() < 0.2, temperature_control=rng.random() < 0.1,
            currency_id=rng.choice(["EUR", "USD", "XOF"]), transit_days=rng.randint(2, 40),
            valid_from=start, valid_until=start + dt.timedelta(days=rng.randint(30, 400)),
            active=rng.random() < 0.95))
    offerings = ServiceOffering.objects.bulk_create(offerings, batch_size=2000)
    lanes, lines = [], []
    for o in offerings:
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.12:
                oc, dc = "CI", "FR"
            else:
                oc, dc = rng.sample(COUNTRIES, 2)
            ol = rng.choice(PORTS.get(oc, [""]) + [""])
            dl = rng.choice(PORTS.get(dc, [""]) + [""])
            lanes.append(Lane(offering=o, origin_country=oc, origin_location=ol,
                              destination_country=dc, destination_location=dl))
        basis = rng.choice(["kg", "m3", "shipment"])
        lines += [
            RateLine(offering=o, code="FRT", description="Freight", basis=basis,
                     amount=Decimal(rng.randint(10, 500)) / 100),
            RateLine(offering=o, code="MIN", description="Minimum", basis="minimum", amount=Decimal(150)),
            RateLine(offering=o, code="BAF", description="Bunker", basis="shipment", amount=Decimal(35),
                     is_surcharge=True),
        ]
    Lane.objects.bulk_create(lanes, batch_size=5000)
    RateLine.objects.bulk_create(lines, batch_size=5000)
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")

cargo = CargoSpec(origin_country="CI", destination_country="FR", origin_location="CIABJ",
                  destination_location="FRMRS", mode="1", gross_mass_kg=Decimal("3450"),
                  volume_m3=Decimal("8.2"), goods_value=Decimal("100250"), value_currency="EUR")
found = match_offerings(service_type="carriage", cargo=cargo, on=today)  # warm-up
if os.environ.get("BENCH_EXPLAIN"):
    from ismit.marketplace.matching import matching_queryset
    print(matching_queryset(service_type="carriage", cargo=cargo, on=today)[0].explain(analyze=True))
timings, priced = [], []
for _ in range(RUNS):
    t = time.perf_counter()
    found = match_offerings(service_type="carriage", cargo=cargo, on=today)
    timings.append((time.perf_counter() - t) * 1000)
for _ in range(max(RUNS // 5, 3)):
    t = time.perf_counter()
    prices = [price_offering(offering=o, cargo=cargo, on=today)
              for o in match_offerings(service_type="carriage", cargo=cargo, on=today)]
    priced.append((time.perf_counter() - t) * 1000)
timings.sort()
print(f"BENCH rfq_match_ms {statistics.median(timings):.1f}")
print(f"BENCH rfq_match_p95_ms {timings[int(len(timings) * 0.95) - 1]:.1f}")
print(f"BENCH rfq_match_offerings {len(found)}")
print(f"BENCH rfq_match_and_price_ms {statistics.median(priced):.1f}")
print(f"BENCH rfq_match_total_offerings {ServiceOffering.objects.count()}")
"""


def main() -> None:
    db = f"ismit_bench_mkt_{int(time.time())}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "ISMIT_VAR_DIR": tempfile.mkdtemp(prefix="ismit-bench-mkt-"),
        "SECRET_KEY": "bench-" + "x" * 40,
        "LOG_LEVEL": "WARNING",
    }
    try:
        for args in (("migrate", "--noinput"), ("refdata", "load"), ("shell", "-c", SCRIPT)):
            done = subprocess.run([ISMIT, *args], env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"ismit {args[0]} failed:\n{done.stderr[-3000:]}")
            for line in done.stdout.splitlines():
                if line.startswith("BENCH ") or os.environ.get("BENCH_EXPLAIN"):
                    print(line, flush=True)
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
