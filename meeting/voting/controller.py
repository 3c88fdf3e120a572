"""HTTP endpoints for polls, ballots, receipts, conclusions and minutes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, patch, post, put
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK

from meeting.agenda import Access, provide_access
from meeting.broker import Publisher
from meeting.db import DbSession
from meeting.docs import Docs, provide_docs
from meeting.docs.schemas import SignatureRequest
from meeting.docs.signing import SignatureReport
from meeting.voting import approval, bundle, conclusions, minutes, service
from meeting.voting.deps import Sealing, provide_sealer
from meeting.voting.schemas import (
    BallotCast,
    BallotReceipt,
    BallotStatus,
    ConclusionRead,
    ConclusionWrite,
    MinutesState,
    PollCreate,
    PollRead,
    PollResult,
    PollUpdate,
    PublishedBallots,
    ReceiptCheck,
    ReceiptVerdict,
)


class PollController(Controller):
    """Polls of a meeting: drafts, lifecycle, ballots, results, receipts."""

    path = "/api/meetings/{meeting_id:int}/polls"
    tags = ["polls"]
    dependencies = {
        "access": Provide(provide_access),
        "sealer": Provide(provide_sealer, sync_to_thread=False),
    }

    @get("/")
    async def list_polls(
        self,
        db_session: DbSession,
        access: Access,
        item_id: Annotated[
            int | None, QueryParameter(name="itemId", description="only this agenda item")
        ] = None,
    ) -> list[PollRead]:
        """The meeting's polls, oldest first (drafts for the chair and secretary only)."""
        return await service.list_polls(db_session, access, item_id)

    @post("/")
    async def create_poll(
        self, db_session: DbSession, access: Access, data: JSONBody[PollCreate]
    ) -> PollRead:
        """A draft poll on an agenda item (chair or secretary)."""
        return await service.create_poll(db_session, access, data)

    @get("/{poll_id:int}")
    async def get_poll(self, db_session: DbSession, access: Access, poll_id: FromPath[int]) -> PollRead:
        """One poll, with its result when the caller may see it."""
        return await service.read_poll(db_session, access, poll_id)

    @patch("/{poll_id:int}")
    async def update_poll(
        self, db_session: DbSession, access: Access, poll_id: FromPath[int], data: JSONBody[PollUpdate]
    ) -> PollRead:
        """Edit a draft poll."""
        return await service.update_poll(db_session, access, poll_id, data)

    @post("/{poll_id:int}/open", status_code=HTTP_200_OK)
    async def open_poll(
        self, db_session: DbSession, broker: Publisher, access: Access, poll_id: FromPath[int]
    ) -> PollRead:
        """draft → open (chair); freezes who may vote."""
        return await service.open_poll(db_session, broker, access, poll_id)

    @post("/{poll_id:int}/close", status_code=HTTP_200_OK)
    async def close_poll(
        self,
        db_session: DbSession,
        broker: Publisher,
        sealer: Sealing,
        access: Access,
        poll_id: FromPath[int],
    ) -> PollRead:
        """open → closed (chair); counts and freezes the result."""
        return await service.close_poll(db_session, broker, sealer, access, poll_id)

    @post("/{poll_id:int}/publish", status_code=HTTP_200_OK)
    async def publish_poll(
        self, db_session: DbSession, broker: Publisher, access: Access, poll_id: FromPath[int]
    ) -> PollRead:
        """closed → published (chair); broadcasts the result."""
        return await service.publish_poll(db_session, broker, access, poll_id)

    @post("/{poll_id:int}/ballots", status_code=HTTP_200_OK)
    async def cast_ballot(
        self,
        db_session: DbSession,
        broker: Publisher,
        sealer: Sealing,
        access: Access,
        poll_id: FromPath[int],
        data: JSONBody[BallotCast],
    ) -> BallotReceipt:
        """Vote (eligible delegates, while open); secret polls return a receipt code, shown once."""
        return await service.cast_ballot(db_session, broker, sealer, access, poll_id, data)

    @get("/{poll_id:int}/ballots/me")
    async def my_ballot(self, db_session: DbSession, access: Access, poll_id: FromPath[int]) -> BallotStatus:
        """Whether I may vote, whether I did, and my choice unless the poll is secret."""
        return await service.ballot_status(db_session, access, poll_id)

    @get("/{poll_id:int}/result")
    async def poll_result(self, db_session: DbSession, access: Access, poll_id: FromPath[int]) -> PollResult:
        """The frozen result (chair and secretary once closed; everyone once published)."""
        return await service.poll_result(db_session, access, poll_id)

    @get("/{poll_id:int}/ballots")
    async def published_ballots(
        self, db_session: DbSession, access: Access, poll_id: FromPath[int]
    ) -> PublishedBallots:
        """A published secret poll's counted receipts and choices, as two separately sorted lists."""
        return await service.published_ballots(db_session, access, poll_id)

    @post("/{poll_id:int}/receipts/verify", status_code=HTTP_200_OK)
    async def verify_receipt(
        self, db_session: DbSession, access: Access, poll_id: FromPath[int], data: JSONBody[ReceiptCheck]
    ) -> ReceiptVerdict:
        """Was the ballot behind my receipt code counted? (Never says which choice it carries.)"""
        return await service.verify_receipt(db_session, access, poll_id, data.receipt)


class ConclusionController(Controller):
    """Conclusions of agenda items, versioned."""

    path = "/api/meetings/{meeting_id:int}"
    tags = ["conclusions"]
    dependencies = {"access": Provide(provide_access)}

    @get("/conclusions")
    async def list_conclusions(self, db_session: DbSession, access: Access) -> list[ConclusionRead]:
        """The latest conclusion of every item that has one, in agenda order."""
        return await conclusions.latest_all(db_session, access)

    @get("/agenda/{item_id:int}/conclusion")
    async def get_conclusion(
        self, db_session: DbSession, access: Access, item_id: FromPath[int]
    ) -> ConclusionRead:
        """The latest version of an item's conclusion, with the item's polls."""
        return await conclusions.latest(db_session, access, item_id)

    @put("/agenda/{item_id:int}/conclusion")
    async def write_conclusion(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        item_id: FromPath[int],
        data: JSONBody[ConclusionWrite],
    ) -> ConclusionRead:
        """Save a new version (chair or secretary)."""
        return await conclusions.write(db_session, broker, access, item_id, data)

    @get("/agenda/{item_id:int}/conclusion/history")
    async def conclusion_history(
        self, db_session: DbSession, access: Access, item_id: FromPath[int]
    ) -> list[ConclusionRead]:
        """Every version, newest first."""
        return await conclusions.history(db_session, access, item_id)


class MinutesController(Controller):
    """The meeting's minutes, as PDF and Markdown."""

    path = "/api/meetings/{meeting_id:int}/minutes"
    tags = ["minutes"]
    dependencies = {"access": Provide(provide_access), "docs": Provide(provide_docs, sync_to_thread=False)}

    @get("/")
    async def minutes_state(self, db_session: DbSession, state: State, access: Access) -> MinutesState:
        """Where the minutes stand (draft, submitted, approved), their stored copies, how to sign them."""
        return await approval.minutes_state(db_session, state.settings, access)

    @post("/submit", status_code=HTTP_200_OK)
    async def submit_minutes(
        self, db_session: DbSession, broker: Publisher, state: State, access: Access
    ) -> MinutesState:
        """draft → submitted (secretary or chair), once the meeting has ended."""
        return await approval.submit_minutes(db_session, broker, state.settings, access)

    @post("/return", status_code=HTTP_200_OK)
    async def return_minutes(
        self, db_session: DbSession, broker: Publisher, state: State, access: Access
    ) -> MinutesState:
        """submitted → draft (chair): back to the secretary for corrections."""
        return await approval.return_minutes(db_session, broker, state.settings, access)

    @post("/approve", status_code=HTTP_200_OK)
    async def approve_minutes(
        self, db_session: DbSession, broker: Publisher, state: State, access: Access, docs: Docs
    ) -> MinutesState:
        """submitted → approved (chair): the PDF is stored once and the meeting becomes read-only."""
        return await approval.approve_minutes(db_session, broker, docs, state.settings, access)

    @post("/sign", status_code=HTTP_200_OK)
    async def sign_minutes(
        self,
        db_session: DbSession,
        broker: Publisher,
        state: State,
        access: Access,
        docs: Docs,
        data: JSONBody[SignatureRequest],
    ) -> MinutesState:
        """Sign the approved minutes (the secretary, then the chair): a new stored copy each time."""
        return await approval.sign_minutes(db_session, broker, docs, state.settings, access, data)

    @get("/signatures")
    async def minutes_signatures(
        self, db_session: DbSession, state: State, access: Access, docs: Docs
    ) -> SignatureReport:
        """The signatures of the stored minutes, each checked: signer, time, trust, integrity."""
        return await approval.minutes_signatures(db_session, docs, state.settings, access)

    @get("/pdf", media_type="application/pdf")
    async def minutes_pdf(self, db_session: DbSession, access: Access, docs: Docs) -> Response[bytes]:
        """The minutes as a PDF: once approved the stored copy, byte for byte; before, a fresh draft."""
        pdf = await approval.approved_pdf(db_session, docs, access)
        if pdf is None:
            pdf = await minutes.minutes_pdf(db_session, access, docs)
        filename = f"bien-ban-{access.meeting.id}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @get("/markdown", media_type="text/markdown")
    async def minutes_markdown(self, db_session: DbSession, access: Access) -> Response[str]:
        """The minutes as Markdown, for the web client."""
        text = await minutes.minutes_markdown(db_session, access)
        return Response(text, media_type="text/markdown")  # Litestar adds the charset


class ArchiveController(Controller):
    """The archive package of an archived meeting, for the records office."""

    path = "/api/meetings/{meeting_id:int}/archive"
    tags = ["minutes"]
    dependencies = {"access": Provide(provide_access), "docs": Provide(provide_docs, sync_to_thread=False)}

    @get("/", media_type="application/zip")
    async def archive_package(self, db_session: DbSession, access: Access, docs: Docs) -> File:
        """One ZIP: signed minutes, documents, results, conclusions, chain, CSV tables, manifest."""
        path = await bundle.write_bundle(db_session, docs.store, access)
        return File(
            path,
            filename=f"ho-so-cuoc-hop-{access.meeting.id}.zip",
            media_type="application/zip",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )


# What this domain adds to the app (gathered by meeting/app.py).
route_handlers = [PollController, ConclusionController, MinutesController, ArchiveController]
