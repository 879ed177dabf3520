"""Apps: credentials, request signing, Events API events and delivery (pure logic), and
the HTTP client and queue wiring that delivery uses."""
