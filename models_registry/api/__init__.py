"""The registry's REST API for data scientists (mounted under /api/v1/).

Thin views: parse the input with a serializer, resolve ids through the
selectors, call one service, render with an output serializer.
"""
