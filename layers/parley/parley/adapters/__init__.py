"""Adapters: the only code that talks to AWS and the network.

`dynamodb/` the application table (pynamodb items, one repository module per aggregate, the
lean HTTP transport); `s3` the files bucket; `sqs` queues; `sns` offline notifications;
`connections` API Gateway's @connections; `fanout` delivery to an audience's connections;
`opensearch` the search index; `cognito` JWT verification and the user pool; `app_http` the
HTTP client that calls apps; `sigv4` the one SigV4 signer (the lean clients', OpenSearch's)
and `keepalive` the connection pool the lean clients share. `parley.wiring` builds them; the
domain sees them only through `parley.domain.ports`.
"""
