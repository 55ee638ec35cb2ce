"""From NEP grids, emission inventories and GDP to per-unit tables (METHOD.md section 3)."""
