"""The database side of recordings: the segment index, retention against disk and index, exports.

`pantau.media` works on files and plain data; this package connects it to the `segment` and
`export` tables so the API, the pipeline and the CLI share one implementation.
"""
