"""Incidents: things a person in the control room must look at (intrusion, tamper, camera down)."""
