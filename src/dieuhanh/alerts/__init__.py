"""Alerts: rules over every capability's events, one alert per rule × subject with its
lifecycle, live notification, and emergency broadcasts as CAP 1.2."""
