"""Operators' admin of the tracking app."""
