"""Operators' admin of the marketplace app."""
