"""Demo data: a district council session with its people and agenda, so every screen has something true."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from sqlalchemy import select

from meeting import audit, mail
from meeting.agenda.models import AgendaItem, Meeting, MeetingStatus, Participant, ParticipantRole
from meeting.agenda.service import chain_new_meeting
from meeting.broker import RoomSequence
from meeting.mail import Outbox
from meeting.users.models import GlobalRole, User
from meeting.users.security import hash_password

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings

DEMO_PASSWORD = "demo"
DEMO_TITLE = "Kỳ họp thứ Mười hai, Hội đồng nhân dân huyện Thanh Trì khóa XX"

DEMO_USERS: list[tuple[str, str, GlobalRole, ParticipantRole | None]] = [
    ("admin", "Quản trị hệ thống", GlobalRole.admin, None),
    ("secretary", "Nguyễn Thị Thu Hà", GlobalRole.secretary, ParticipantRole.secretary),
    ("chair", "Trần Văn Đức", GlobalRole.user, ParticipantRole.chair),
    ("delegate1", "Lê Minh Tuấn", GlobalRole.user, ParticipantRole.delegate),
    ("delegate2", "Phạm Thị Hồng Nhung", GlobalRole.user, ParticipantRole.delegate),
    ("delegate3", "Hoàng Văn Quyết", GlobalRole.user, ParticipantRole.delegate),
    ("delegate4", "Đỗ Thị Lan Anh", GlobalRole.user, ParticipantRole.delegate),
    ("delegate5", "Vũ Đình Khải", GlobalRole.user, ParticipantRole.delegate),
    ("guest", "Bùi Quang Vinh", GlobalRole.user, ParticipantRole.guest),
]

# (title, presenter, planned minutes, text of the item's document)
DEMO_AGENDA: list[tuple[str, str, int, str]] = [
    (
        "Khai mạc kỳ họp",
        "Chủ tọa kỳ họp",
        10,
        "Diễn văn khai mạc Kỳ họp thứ Mười hai. Thông qua chương trình kỳ họp và bầu thư ký kỳ họp.",
    ),
    (
        "Báo cáo tình hình kinh tế - xã hội năm 2026",
        "Phó Chủ tịch UBND huyện",
        30,
        "Báo cáo đánh giá tình hình thực hiện kế hoạch phát triển kinh tế - xã hội năm 2026 và "
        "phương hướng, nhiệm vụ năm 2027. Tổng giá trị sản xuất tăng 8,2%; thu ngân sách đạt 112% dự toán.",
    ),
    (
        "Dự toán ngân sách huyện năm 2027",
        "Trưởng phòng Tài chính - Kế hoạch",
        30,
        "Tờ trình về dự toán thu, chi ngân sách địa phương và phương án phân bổ ngân sách cấp huyện "
        "năm 2027. Quyết định giao dự toán cho các xã, thị trấn.",
    ),
    (
        "Kế hoạch đầu tư công trung hạn",
        "Trưởng ban Kinh tế - Xã hội",
        25,
        "Nghị quyết điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2026 - 2030: danh mục dự án "
        "giao thông, trường học và trạm y tế xã.",
    ),
    (
        "Chất vấn và trả lời chất vấn",
        "Thường trực HĐND huyện",
        45,
        "Tổng hợp ý kiến, kiến nghị của cử tri gửi đến kỳ họp: đất đai, môi trường, an toàn thực phẩm.",
    ),
    (
        "Thông qua các nghị quyết và bế mạc",
        "Chủ tọa kỳ họp",
        15,
        "Biểu quyết thông qua các nghị quyết của kỳ họp. Diễn văn bế mạc kỳ họp.",
    ),
]


async def seed_demo(session: AsyncSession, settings: Settings | None = None) -> Meeting:
    """Create the demo users and session once; running it again changes nothing."""
    users: dict[str, User] = {}
    for username, name, role, _ in DEMO_USERS:
        user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                display_name=name,
                role=role,
                password_hash=await hash_password(DEMO_PASSWORD),
            )
            session.add(user)
        if user.email is None:
            # example.org never takes mail: the delivery panel has addresses to show, nobody is written to.
            user.email = f"{username}@example.org"
        users[username] = user
    await session.flush()

    meeting = await session.scalar(select(Meeting).where(Meeting.title == DEMO_TITLE))
    if meeting is not None:
        await session.commit()
        await _seed_documents(session, settings, meeting, users["secretary"].id)
        return meeting

    zone = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    today = dt.datetime.now(zone).date()
    starts_at = dt.datetime.combine(today, dt.time(8, 0), zone)
    meeting = Meeting(
        title=DEMO_TITLE,
        description=(
            "Kỳ họp thường lệ cuối năm: đánh giá kinh tế - xã hội, quyết định dự toán ngân sách 2027."
        ),
        location="Hội trường UBND huyện, tầng 3",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=9),
        status=MeetingStatus.scheduled,
        # Five minutes a speech, as council rules often say; the budget debate gives ten (below).
        speaking_limit_seconds=5 * 60,
        created_by_id=users["secretary"].id,
    )
    session.add(meeting)
    await session.flush()
    session.add(RoomSequence(meeting_id=meeting.id, last_seq=0))
    for position, (title, presenter, minutes, description) in enumerate(DEMO_AGENDA):
        session.add(
            AgendaItem(
                meeting_id=meeting.id,
                position=position,
                title=title,
                presenter=presenter,
                planned_minutes=minutes,
                description=description,
                speaking_limit_seconds=10 * 60 if "ngân sách" in title.lower() else None,
            )
        )
    participants = [
        Participant(
            meeting_id=meeting.id,
            user_id=users[username].id,
            role=meeting_role,
            # Councils' chairs are delegates too.
            voting=meeting_role in (ParticipantRole.delegate, ParticipantRole.chair),
        )
        for username, _, _, meeting_role in DEMO_USERS
        if meeting_role is not None
    ]
    session.add_all(participants)
    # Chained as if made through the API, so `meeting audit verify` checks the demo's whole record.
    secretary = users["secretary"].id
    await chain_new_meeting(session, meeting, participants, secretary)
    await audit.append(session, meeting.id, "meeting.status", {"status": "scheduled", "by": secretary})
    # Scheduled as through the API: with mail configured, the demo participants are invited.
    outbox = Outbox.from_settings(settings) if settings is not None else Outbox(enabled=False)
    await session.flush()
    await mail.meeting_status_changed(session, outbox, meeting, MeetingStatus.draft)
    await session.commit()
    await _seed_documents(session, settings, meeting, users["secretary"].id)
    return meeting


async def _seed_documents(
    session: AsyncSession, settings: Settings | None, meeting: Meeting, user_id: int
) -> None:
    """One generated PDF per agenda item (needs settings: where to store them)."""
    if settings is None:
        return
    from meeting.docs.sample import seed_demo_documents

    items = list(
        await session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
        )
    )
    await seed_demo_documents(session, settings, meeting, items, user_id)
