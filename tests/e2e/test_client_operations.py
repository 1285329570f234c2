"""The generated client drives every operation of the spec against a live server."""

from __future__ import annotations

import asyncio

import pytest
from contract_api_client.api.processing import process_data
from contract_api_client.api.records import get_record, list_records
from contract_api_client.api.users import (
    create_user,
    delete_user,
    get_user,
    list_users,
    replace_user,
    update_user,
)
from contract_api_client.models import (
    Problem,
    ProcessRequest,
    ProcessResponse,
    Record,
    RecordPage,
    User,
    UserInput,
    UserPage,
    UserPatch,
)

from tests.e2e.conftest import LiveServer, with_api_key, with_bearer_token

pytestmark = pytest.mark.e2e


def test_user_lifecycle(live_server: LiveServer) -> None:
    with with_bearer_token(live_server) as api:
        created = create_user.sync_detailed(
            client=api,
            body=UserInput(name="Grace Hopper", email="grace@client.example", age=85),
            idempotency_key="client-create-1",
        )
        assert created.status_code == 201
        user = created.parsed
        assert isinstance(user, User)
        etag = created.headers["etag"]

        fetched = get_user.sync_detailed(user.id, client=api, if_none_match=etag)
        assert fetched.status_code == 304

        page = list_users.sync(
            client=api, email="GRACE@client.example", sort="-created_at", limit=10
        )
        assert isinstance(page, UserPage)
        assert [u.id for u in page.items] == [user.id]

        replaced = replace_user.sync_detailed(
            user.id,
            client=api,
            body=UserInput(name="Grace B. Hopper", email="grace@client.example"),
            if_match=etag,
        )
        assert replaced.status_code == 200
        assert isinstance(replaced.parsed, User) and replaced.parsed.age is None

        stale = update_user.sync_detailed(
            user.id, client=api, body=UserPatch(age=86), if_match=etag
        )
        assert stale.status_code == 412
        assert isinstance(stale.parsed, Problem)

        patched = update_user.sync(
            user.id, client=api, body=UserPatch(age=86), if_match=replaced.headers["etag"]
        )
        assert isinstance(patched, User) and patched.age == 86

        deleted = delete_user.sync_detailed(user.id, client=api)
        assert deleted.status_code == 204
        gone = get_user.sync(user.id, client=api)
        assert isinstance(gone, Problem) and gone.status == 404


def test_records_async(live_server: LiveServer) -> None:
    async def run() -> None:
        async with with_api_key(live_server) as api:
            replies = await asyncio.gather(
                *(
                    process_data.asyncio(
                        client=api, body=ProcessRequest(user_id=4242, item_id=i, quantity=i)
                    )
                    for i in range(1, 6)
                )
            )
            ids = [r.record_id for r in replies if isinstance(r, ProcessResponse)]
            assert len(ids) == 5
            record = await get_record.asyncio(ids[0], client=api)
            assert isinstance(record, Record) and record.user_id == 4242
            page = await list_records.asyncio(client=api, user_id=4242, limit=3)
            assert isinstance(page, RecordPage) and len(page.items) == 3
            assert isinstance(page.next_cursor, str)
            rest = await list_records.asyncio(
                client=api, user_id=4242, limit=3, cursor=page.next_cursor
            )
            assert isinstance(rest, RecordPage)
            assert sorted(r.id for r in [*page.items, *rest.items]) == sorted(ids)

    asyncio.run(run())
