"""The installation itself: background jobs, events."""
