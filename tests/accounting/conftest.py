import pytest


@pytest.fixture(autouse=True)
def _no_arima_disk_cache(monkeypatch):
    """Tests compute every ARIMA fit and never write into the user's cache folder."""
    monkeypatch.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")
