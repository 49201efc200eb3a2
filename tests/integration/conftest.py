import asyncio

import pytest

from storage.migrate import upgrade
from tests.support import Db, fresh_database_url


@pytest.fixture
async def db(backend, tmp_path):
    url = await fresh_database_url(backend, tmp_path)
    await asyncio.to_thread(upgrade, url)
    d = Db(url)
    yield d
    await d.close()
