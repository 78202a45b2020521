"""Rendering: the shape report (table, json, markdown) and diagnostics (text and machine formats).

Only the modules that draw tables import rich, and they do so when called.
"""
