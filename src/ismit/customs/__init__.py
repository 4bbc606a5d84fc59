"""Customs: declarations sent to national single windows, their answers, queries and corrections.

A declaration is issued by the documents app (signed, versioned), written with its outbox message in one
transaction (services.submit_declaration), delivered by a worker through the connector of the country's
single window (connectors.py), and followed by the answers the window sends back by callback or polling
(answers.py), applied by a worker (applying.py) with what follows on the checklist (checklist.py). See
docs/single-window-protocol.md.
"""
