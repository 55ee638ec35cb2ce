"""Where the grid passes compute: local threads or a dask.distributed cluster, each pass
named on the command's progress display."""

from __future__ import annotations

import contextlib
import logging
import os

import dask
import dask.threaded

log = logging.getLogger(__name__)


def tree(func, items, fan_in: int = 8):
    """Tree reduction of delayed ``items`` by ``func(*parts)`` (bounded memory, parallel
    merges)."""
    items = list(items)
    while len(items) > 1:
        items = [dask.delayed(func, pure=True)(*items[i:i + fan_in])
                 for i in range(0, len(items), fan_in)]
    return items[0]


class Runner:
    """Computes dask graphs on the chosen scheduler: ``runner(stage, graph)`` returns the
    graph's value, naming the pass on the command's progress display
    (:func:`carbon_balance.progress.step`; ``progress=False``: unnamed). ``client``: a
    ``distributed.Client`` (default: the local threaded scheduler, one thread per core)."""

    def __init__(self, client=None, progress: bool = True):
        self.client = client
        self.progress = progress

    def __call__(self, stage: str, graph):
        if self.progress:
            from .. import progress

            progress.step(stage)
        if self.client is not None:
            (result,) = dask.compute(graph, scheduler=self.client)
        else:
            (result,) = dask.compute(graph, scheduler=dask.threaded.get,
                                     num_workers=os.cpu_count() or 1)
        return result


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None):
    """None (local threads), a LocalCluster of ``workers`` processes, or ``scheduler``."""
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    from ..logs import settle_library_loggers, worker_log_level

    settle_library_loggers()   # importing distributed set its loggers to INFO

    if scheduler is not None:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=worker_log_level()) as cluster, \
            Client(cluster, set_as_default=False) as client:
        log.info("dask.distributed scheduler at %s", client.scheduler.address)
        yield client


def grid_lock(client, name: str):
    """A lock the chunk writers share: a threading lock, or a distributed one."""
    if client is None:
        import threading

        return threading.Lock()
    from distributed import Lock

    return Lock(name)


#: GDAL's block cache during a command [MB]. Inputs are read once, window by window, so a
#: large cache only holds memory (GDAL's default is 5 % of RAM: 1.2 GB here).
GDAL_CACHE_MB = 128


def gdal_block_cache():
    """Context manager: GDAL's block cache of :data:`GDAL_CACHE_MB` for one command
    (``rasterio.Env``, undone on exit; nothing is set at import). GDAL sizes its cache at
    the first read of the process, so a command enters it before reading anything.

    rasterio hands an integer GDAL_CACHEMAX to GDALSetCacheMax64, in bytes (rasterio's
    own example: ``GDAL_CACHEMAX=128000000``): a bare 128 was a 128-byte cache, and every
    warped read decoded its source blocks again and again (about 10 times slower,
    benchmarks/RESULTS.md, "Issue 15")."""
    import rasterio

    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 2**20)
