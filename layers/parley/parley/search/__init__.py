"""Message search: the query language, the index's documents and mapping, and OpenSearch.

Only `parley.adapters.opensearch` imports opensearch-py, and only when called, so that no
WebSocket function pays for it at cold start.
"""
