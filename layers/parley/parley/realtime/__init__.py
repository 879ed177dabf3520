"""Real-time delivery: the @connections adapter and fan-out to an audience's connections."""
