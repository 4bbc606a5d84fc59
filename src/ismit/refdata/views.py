"""Pages of the refdata app."""
