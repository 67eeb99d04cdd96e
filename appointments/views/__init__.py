"""The appointments app's pages, one module per sub-domain (their URLs: `appointments/urls.py`
for staff pages, `clienteling/urls.py` for the public ones).

Staff pages (signed in; each begins with `access.staff_or_404`, then scopes to the store):
- `rooms`: fitting rooms: my pages, the room board, a room, reservations, metrics, and
  the polling helpers the tablet and Today share;
- `schedule`: the agenda, booking a client, an appointment, a client's appointments,
  personal styling;
- `makeovers`: the stylist's makeover editor and its private photos and videos.

Public pages (no login; the visitor is known by a secret token or a store code):
- `booking`: a store's booking page and the client's link to move or cancel;
- `makeover_pages`: the client's makeover page behind the link a stylist sent;
- `tablet`: a fitting room's tablet paging staff;
- `calendar_feed`: a stylist's appointments as an .ics feed.
"""
