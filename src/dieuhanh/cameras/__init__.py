"""Cameras: the registry, the unit survey, the stream health monitor."""
