"""Parley's rules: who may do what, and what each action writes and announces."""
