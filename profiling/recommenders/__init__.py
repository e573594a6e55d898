"""Recommenders: one contract (base.py) and the model families behind it."""
