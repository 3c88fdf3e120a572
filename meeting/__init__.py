"""Phòng họp không giấy: a paperless meeting room server."""
