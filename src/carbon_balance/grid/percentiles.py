"""Exact per-class NDVI percentiles for the grid engine: the one implementation is
:mod:`carbon_balance.casa.percentiles` (re-exported here for the grid's call sites)."""

from ..casa.percentiles import (  # noqa: F401
    BIN_WIDTH,
    N_BINS,
    N_TYPES,
    Scan,
    bins_of,
    class_percentile_bounds,
    class_percentiles,
    gather_block,
    merge_gathered,
    merge_scans,
    needed_bins,
    order_statistic_bin,
    scan_block,
    scan_integer_block,
    unresolved,
)
