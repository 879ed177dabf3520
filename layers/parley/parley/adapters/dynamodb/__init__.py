"""DynamoDB adapters: the only code that talks to the application table.

One table, one DynamoDB client per process (see `base.bind`), pynamodb models per item type.
"""

from parley.adapters.dynamodb.base import bind

__all__ = ["bind"]
