"""Documents and compliance figures of `make bench`, run by bench/run.py inside `ismit shell` on the
bench database (PostgreSQL). Prints BENCH lines:

- document_sets_per_s: full signed document sets (4 PDFs, CII, WCO declaration, 2 EDIFACT, and the
  JSON data set) issued per second for a 10-item trade, one after the other;
- check_ms: the compliance check of a 100-item trade against 1,000 rules (median of the runs);
- single_entry_ratio: data element occurrences in all documents of the demo trade / fields typed.
"""

import statistics
import time

from django.db import transaction

from ismit.accounts.actors import actor_for
from ismit.accounts.models import Organisation, User, VerificationStatus
from ismit.accounts.services import create_organisation
from ismit.compliance.check import run_check
from ismit.compliance.samples import create_synthetic_rules
from ismit.compliance.services import load_starter_rules
from ismit.documents.coverage import coverage
from ismit.documents.data import document_data
from ismit.documents.services import issue_documents
from ismit.trades.samples import cashew_export
from ismit.trades.services import create_trade

SECONDS = 8.0

user = User.objects.create_user(email="docs-bench@example.com", password="bench-password-123")
org = create_organisation(
    by=user, legal_name="Bench Documents SARL", kind="msme", country="CI", city="Abidjan"
)
Organisation.objects.filter(pk=org.pk).update(verification_status=VerificationStatus.VERIFIED)
org.refresh_from_db()
actor = actor_for(user)

data = cashew_export()
ten = create_trade(
    actor=actor, organisation=org, data=type(data)(**{**data.__dict__, "items": (data.items * 10)[:10]})
)
hundred = create_trade(
    actor=actor, organisation=org, data=type(data)(**{**data.__dict__, "items": (data.items * 100)[:100]})
)

# -- document sets ----------------------------------------------------------------------------------
issue_documents(actor=actor, trade=ten)  # warm-up: keys, CA, fonts, schemas
sets, start = 0, time.perf_counter()
while time.perf_counter() - start < SECONDS:
    issue_documents(actor=actor, trade=ten)
    sets += 1
elapsed = time.perf_counter() - start
documents = len(issue_documents(actor=actor, trade=ten))
print(f"BENCH document_sets_per_s {sets / elapsed:.2f}")
print(f"BENCH documents_per_set {documents}")

# -- check ------------------------------------------------------------------------------------------
load_starter_rules()
with transaction.atomic():
    create_synthetic_rules(1000)
run_check(hundred)
timings = []
for _ in range(30):
    t = time.perf_counter()
    result = run_check(hundred)
    timings.append((time.perf_counter() - t) * 1000)
print(f"BENCH check_ms {statistics.median(timings):.1f}")
print(f"BENCH check_findings {len(result.findings)}")

# -- single entry ratio of the demo trade -------------------------------------------------------------
demo = create_trade(actor=actor, organisation=org, data=cashew_export())
report = coverage(document_data(demo))
print(f"BENCH single_entry_ratio {report.ratio:.2f}")
print(f"BENCH single_entry_typed {report.typed}")
print(f"BENCH single_entry_occurrences {report.carried}")
