"""`pantau demo`: the 65 Kendari offices with live simulated cameras and a simulated past.

setup.py (registry, users, who plays what), minutes.py and history.py (the simulated past),
live.py (RTSP simulator, camera workers, the simulated feed), run.py (the command's flow).
"""
