"""The HTTP glue shared by every capability's routes: dependencies, errors, routers."""
