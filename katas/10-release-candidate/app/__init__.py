"""A plant nursery's order service: the shop's routes, and the worker that confirms orders by mail."""
