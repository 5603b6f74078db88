"""Photos and files on the worklog: the type from the content, the size bound, the hash (pure); stored, listed,
served and refused against SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.settings import TicketSettings
from tests.tickets.conftest import T0, DrivenClock
from tickets.attachments import check_file, clean_name, media_type_of
from tickets.errors import Conflict, InvalidRequest, NotFound, Refused, TicketError
from tickets.fieldservice import FieldWork
from tickets.models import Attachment, WorklogEntry
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x10JFIF" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00"


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        ("光功率 -3.2 dBm\r\nrack B07\tok\n".encode(), "text/plain"),
        (EXE, None),  # a program, whatever it is called
        (b"\xff\xfe\x00bad utf-8", None),
        (b"text with a \x1b[31m control", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # RIFF but not WebP
    ],
)
def test_the_type_is_what_the_content_is(content: bytes, media_type: str | None) -> None:
    assert media_type_of(content) == media_type


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("photo.jpg", "photo.jpg"),
        ("C:\\Users\\tom\\DCIM\\IMG_0001.JPG", "IMG_0001.JPG"),
        ("/home/tom/odf rack.png", "odf rack.png"),
        ("bad\x00\nname.txt", "badname.txt"),
        ("x" * 300 + ".png", "x" * 200),
    ],
)
def test_the_name_is_the_files_own(name: str, clean: str) -> None:
    assert clean_name(name) == clean


def test_a_checked_file_carries_its_type_size_and_hash() -> None:
    checked = check_file("odf.png", PNG, 1024)
    assert (checked.filename, checked.media_type, checked.size_bytes) == ("odf.png", "image/png", len(PNG))
    assert checked.sha256 == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("odf.png", b"", "file: the file is empty"),
        ("odf.png", PNG, "file: 72 bytes is more than the 64 allowed"),
        ("setup.jpg", EXE, "file: setup.jpg is not one of the accepted kinds (JPEG, PNG or WebP photos, PDF"),
        ("/", PNG[:10], "filename: the file needs a name"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(name: str, content: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_file(name, content, 64)
    assert str(caught.value).startswith(message)


Sessions = async_sessionmaker[AsyncSession]


async def _ticket(svc: TicketService) -> int:
    event = FaultEvent(FaultKind.MANUAL, "ACME-BJ-001", "manual:odf", Impact.DEGRADED, T0, "loss on the ODF")
    return (await svc.handle_fault(event)).ticket_id


async def test_a_photo_on_the_worklog_is_stored_listed_and_served(
    stocked: Sessions, svc: TicketService, clock: DrivenClock
) -> None:
    ticket_id = await _ticket(svc)
    work = FieldWork(svc)
    view = await work.attach("tom", ticket_id, "IMG_0001.png", PNG, "ODF port 4 before cleaning")
    assert (view.filename, view.media_type, view.size_bytes, view.author) == ("IMG_0001.png", "image/png", 72, "tom")
    assert view.sha256 == hashlib.sha256(PNG).hexdigest()
    async with stocked() as session:
        entry = await session.get(WorklogEntry, view.worklog_id)
        assert entry is not None and (entry.text, entry.author) == ("ODF port 4 before cleaning", "tom")
    plain = await work.attach("nina", ticket_id, "otdr.txt", b"otdr trace: break at 1.2 km\n")
    assert [a.filename for a in await work.attachments_of("karl", ticket_id)] == ["IMG_0001.png", "otdr.txt"]
    async with stocked() as session:
        entry = await session.get(WorklogEntry, plain.worklog_id)
        assert entry is not None and entry.text == "attached otdr.txt"
    served, content = await work.attachment("tom", ticket_id, view.id)
    assert (served, content) == (view, PNG)

    with pytest.raises(Conflict, match=r"attached already, as IMG_0001\.png by tom"):
        await work.attach("nina", ticket_id, "copy.png", PNG)
    with pytest.raises(Refused, match="li \\(technician\\) may not see"):
        await work.attachments_of("li", ticket_id)
    with pytest.raises(Refused, match="li \\(technician\\) may not see"):
        await work.attachment("li", ticket_id, view.id)
    with pytest.raises(Refused):
        await work.attach("li", ticket_id, "x.png", PNG + b"x")
    with pytest.raises(NotFound):
        await work.attachment("tom", ticket_id, view.id + 100)
    # Content changed behind the application's back is not served as if it were the file stored.
    async with stocked() as session:
        await session.execute(update(Attachment).where(Attachment.id == view.id).values(content=PNG + b"tampered"))
        await session.commit()
    with pytest.raises(TicketError, match="no longer matches its stored hash"):
        await work.attachment("tom", ticket_id, view.id)


async def test_a_refused_file_stores_nothing(stocked: Sessions, box: object, clock: DrivenClock) -> None:
    svc = TicketService(stocked, TicketSettings(attachment_max_bytes=64), clock=clock)
    ticket_id = await _ticket(svc)
    for name, content in (("big.png", PNG), ("tool.jpg", EXE)):
        with pytest.raises(InvalidRequest, match=r"^file: "):
            await FieldWork(svc).attach("tom", ticket_id, name, content)
    async with stocked() as session:
        assert list(await session.scalars(select(Attachment))) == []
        assert list(await session.scalars(select(WorklogEntry))) == []
