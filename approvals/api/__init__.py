"""The approvals REST API (mounted under /api/v1/ by ``approvals.api_urls``).

Thin views: parse the input with a serializer, find the object through a
selector (what the actor may not see answers 404), call one service, render
with an output serializer. Service errors become ``{"code", "message",
"fields"}`` through ``kernel.api``.
"""
