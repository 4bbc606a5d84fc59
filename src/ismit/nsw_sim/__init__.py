"""The reference National Single Window: a simulator of a customs single window, as its own process.

``ismit nsw-sim --port 8100 --db var/nsw-sim.sqlite3 --callback-url URL --client-id ID --secret S``

It speaks the protocol of docs/single-window-protocol.md (modelled on the UK customs declarations API):
WCO DEC XML and UN/EDIFACT CUSDEC declarations in, WCO RES / CUSRES notifications out by signed callback
(and by polling), FX settlement reports and VAT refund claims as JSON. It validates what it receives with
its own code, applies a few deterministic risk rules, assigns movement reference numbers, and can inject
faults (errors, timeouts, dropped, duplicated and out-of-order callbacks) for the platform's tests.

Not a Django app of the platform: it imports no Django app nor settings, and keeps its own SQLite
database. Modules: config (options), codes (statuses and code lists), mrn, declarations (reading and
checking declarations, risk rules), finance (FX reports, VAT claims), messages (notifications), store
(SQLite), engine (timed statuses and callbacks), server (HTTP), main (the command), bench (intake rate).
"""
