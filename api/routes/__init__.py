"""Blueprints: each module parses and authorises, then calls the library."""
