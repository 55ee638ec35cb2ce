"""Spatial-temporal analysis of the per-unit tables (METHOD.md section 6)."""
