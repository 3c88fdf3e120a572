"""Demo materials: one generated multi-page PDF per agenda item, stored through the normal upload path."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from meeting.docs import service
from meeting.docs.models import Document, DocumentClassification, DocumentVersion
from meeting.docs.render import DocsRuntime
from meeting.docs.upload import Incoming, Upload

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda.models import AgendaItem, Meeting
    from meeting.settings import Settings

# Paragraphs in the register of a district council's papers, appended after each item's own description.
COMMON = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015 và Luật sửa đổi, bổ sung một số "
    "điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương ngày 22 tháng 11 năm 2019;",
    "Căn cứ Luật Ngân sách nhà nước ngày 25 tháng 6 năm 2015 và Luật Đầu tư công ngày 13 tháng 6 năm 2019;",
    "Xét Tờ trình của Ủy ban nhân dân huyện; Báo cáo thẩm tra của Ban Kinh tế - Xã hội Hội đồng nhân dân "
    "huyện; ý kiến thảo luận của đại biểu Hội đồng nhân dân huyện tại kỳ họp.",
    "I. ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN. Trong năm, dưới sự lãnh đạo của Huyện ủy, sự giám sát của Hội đồng "
    "nhân dân, sự điều hành quyết liệt của Ủy ban nhân dân huyện, các chỉ tiêu chủ yếu đều đạt và vượt kế "
    "hoạch; an sinh xã hội được bảo đảm; quốc phòng, an ninh được giữ vững.",
    "Tuy nhiên, công tác giải phóng mặt bằng một số dự án còn chậm; việc xử lý vi phạm trật tự xây dựng, "
    "vệ sinh môi trường ở một số xã chưa triệt để; tiến độ giải ngân vốn đầu tư công chưa đạt yêu cầu.",
    "II. NHIỆM VỤ, GIẢI PHÁP. Tập trung chỉ đạo hoàn thành các công trình trọng điểm; đẩy mạnh cải cách "
    "hành chính, chuyển đổi số; tăng cường quản lý đất đai, tài nguyên, môi trường; nâng cao chất lượng "
    "giáo dục, y tế; bảo đảm trật tự an toàn xã hội.",
    "III. TỔ CHỨC THỰC HIỆN. Giao Ủy ban nhân dân huyện tổ chức thực hiện; Thường trực Hội đồng nhân dân, "
    "các Ban của Hội đồng nhân dân và đại biểu Hội đồng nhân dân huyện giám sát việc thực hiện.",
    "Nơi nhận: Thường trực Huyện ủy; Thường trực HĐND huyện; UBND huyện; các đại biểu HĐND huyện; "
    "Ủy ban MTTQ Việt Nam huyện; các phòng, ban, ngành; UBND các xã, thị trấn; lưu: VT.",
]


# The draft budget is handed out as confidential until the council passes it: its downloads are stamped
# "Tài liệu mật"; the other papers are ordinary (their downloads name the reader only).
CONFIDENTIAL_ITEMS = frozenset({"Dự toán ngân sách huyện năm 2027"})
# The draft resolution on public investment is marked as a resolution, unsigned: in `make serve` the chair
# signs it in the documents tab with the demo certificate (password "demo").
RESOLUTION_ITEMS = frozenset({"Kế hoạch đầu tư công trung hạn"})


async def seed_demo_documents(
    session: AsyncSession, settings: Settings, meeting: Meeting, items: list[AgendaItem], user_id: int
) -> int:
    """Give each demo agenda item a generated PDF, once; returns the number of documents added."""
    if await session.scalar(
        select(func.count()).select_from(Document).where(Document.meeting_id == meeting.id)
    ):
        return 0
    runtime = DocsRuntime(settings)
    added = 0
    try:
        for number, item in enumerate(items, start=1):
            title = f"Tài liệu {number}: {item.title}"
            paragraphs = [item.description, *COMMON]
            data = await runtime.make_demo_pdf(title, paragraphs, 3 + number % 2)
            path = runtime.store.temporary(".pdf")
            path.write_bytes(data)
            incoming = Incoming(
                path, f"{title}.pdf", "application/pdf", len(data), hashlib.sha256(data).hexdigest()
            )
            classification = (
                DocumentClassification.confidential
                if item.title in CONFIDENTIAL_ITEMS
                else DocumentClassification.ordinary
            )
            fields = {"agendaItemId": str(item.id), "title": title, "classification": classification}
            upload = Upload(files=[incoming], fields=fields)
            read = await service.add_document(
                session, runtime, meeting.id, user_id, upload, resolution=item.title in RESOLUTION_ITEMS
            )
            version = read.current_version
            rendered = await runtime.render_version(
                meeting.id, read.id, version.id, version.sha256, version.page_count, publish=False
            )
            stored = await session.get(DocumentVersion, version.id)
            if stored is not None:
                stored.rendered_pages = rendered
                await session.commit()
            added += 1
    finally:
        runtime.pool.close()
    return added
