"""Parley's shared layer: domain rules, adapters and the models between them.

Rooms, with doors only downward:
  functions/*/app.py -> parley.edge, parley.slack (the two dialects) -> parley.domain
  parley.wiring (the composition root) binds parley.adapters to parley.domain.ports
"""
