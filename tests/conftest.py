import pytest

from tests.support import PG_URL


def pytest_report_header(config):
    if PG_URL:
        return "database: SQLite and PostgreSQL (TEST_DATABASE_URL is set)"
    return "database: SQLite only (set TEST_DATABASE_URL to run the PostgreSQL tests too)"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://...)")
    return request.param
