"""The kernel every app shares, at the bottom of the house with stores, catalog and
channels: errors services raise (`errors`), the htmx page helpers (`http`), database
helpers (`db`), enqueue-on-commit (`tasks`), and the REST plumbing (`rest`, `parsers`).

It imports nothing from the domain apps (`customers`, `appointments`) nor from the top of
`clienteling/` (settings, URL map, views, admin composition); they all import from here.
"""
