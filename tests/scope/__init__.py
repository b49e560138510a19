"""Role x scope matrix entries per area; see tests/test_scope_matrix.py `_area_entries`."""
