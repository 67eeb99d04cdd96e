"""HTML input of the appointments app, one module per sub-domain, matching `views/`:
`rooms` (fitting rooms and the room tablet), `schedule` (staff booking and moving
appointments), `makeovers` (makeover notes and the client's asks) and `booking` (the
public booking pages)."""
