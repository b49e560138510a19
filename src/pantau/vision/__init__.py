"""Vision: pure functions from frames (numpy arrays) to facts — no clock, no I/O beyond model files.

Presence and counting only (UU 27/2022): nothing here identifies a person.
"""
