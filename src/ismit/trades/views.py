"""Pages of the trades app."""
