"""Parley's shared layer: domain rules, adapters and the models between them.

Rooms, with doors only downward:
  functions/*/app.py  ->  parley.domain  ->  parley.store (DynamoDB), parley.realtime (@connections)
"""
