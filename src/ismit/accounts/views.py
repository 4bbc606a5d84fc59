"""Pages of the accounts app."""
