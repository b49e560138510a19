"""Pantau: CCTV control room for city governments (first user: Kota Kendari)."""

__version__ = "0.1.0"
