import ipaddress
import re
import uuid

from django.conf import settings

from audit.context import audit_context

# A client may pass its own request id (for tracing across systems), but only a
# short token of safe characters: it is stored and shown verbatim.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def client_ip(request) -> str | None:
    """Return the client address, trusting X-Forwarded-For only for NUM_PROXIES."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.NUM_PROXIES
    if proxies:
        hops = [
            hop.strip()
            for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if hop.strip()
        ]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


class RequestContextMiddleware:
    """Give every request an id (echoed as X-Request-ID) and remember its client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        with audit_context(request_id=request_id, ip=client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
