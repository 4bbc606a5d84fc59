"""Lookups the ORM lacks.

`nonempty`: `filter(code__nonempty=True)` is `code <> ''` with the empty string written in the SQL, not
bound. A partial index whose condition is `NOT code = ''` serves a query only when the planner can prove
the condition from the query's own text: with the value bound (`code = %s`), a prepared statement's
generic plan cannot, and reads every row of the index's other columns instead (a scan that grows with
the table).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup


@models.CharField.register_lookup
class NonEmpty(Lookup):
    lookup_name = "nonempty"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if not isinstance(self.rhs, bool):
            raise ValueError("nonempty takes True or False")
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} {'<>' if self.rhs else '='} ''", params
