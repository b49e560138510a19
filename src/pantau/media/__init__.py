"""Video I/O: stream reading, segment recording, retention, HLS playlists, export, snapshots.

Nothing here knows about the database; the pipeline and the web layer connect it to the index.
"""
