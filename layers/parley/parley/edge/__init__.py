"""What every handler needs at the edge: process-wide wiring and WebSocket framing."""
