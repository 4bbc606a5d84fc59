"""Operators' admin of the logistics app."""
