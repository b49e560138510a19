"""Simulated CCTV cameras of kelurahan offices, with ground truth.

``plan`` holds the shared data types (who is where, lights, tamper, outages); ``scene`` renders a
frame as a pure function of (office seed, view, time, presence, lights, tamper) so that a
simulated day can be replayed bit-for-bit and checked against what the analytics report.
"""
