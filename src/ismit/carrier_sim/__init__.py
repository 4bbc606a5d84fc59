"""A carrier's DCSA Track & Trace 3.0 endpoint, for tests and demos: its own process (`ismit carrier-sim`),
the standard library's HTTP server and sqlite3, importing none of the platform's apps."""
