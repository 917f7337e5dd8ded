"""Test doubles shared across areas. They stand in for remote services only, never for guard's own parts."""
