"""The baseline endpoint of `make bench` (mounted only with ISMIT_BENCH=1).

It does what the cheapest real endpoint does beyond authentication: one indexed read and one insert,
so that API figures can be given as ratios to it, measured in the same run on the same server.
"""

from django.db import connection
from ninja import Router

router = Router(tags=["bench"])
PROBE_TABLE = "ismit_bench_probe"


@router.post("/baseline", include_in_schema=False)
def baseline(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, legal_name FROM accounts_organisation WHERE id = %s", [1])
        row = cursor.fetchone()
        cursor.execute(f"INSERT INTO {PROBE_TABLE} (note) VALUES (%s)", [str(request.auth)])  # noqa: S608
    return {"organisation": row[0] if row else None}
