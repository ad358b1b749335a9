"""What every approvals endpoint shares: the API base (``kernel.api``) with the
approvals' 400 error, the path parameters and the documented error
responses."""

from drf_spectacular.utils import OpenApiParameter

from approvals.errors import ApprovalInvalid, FindingNotFound  # noqa: F401 (re-exported)
from kernel.api import ApiView, error_response


class ApprovalsView(ApiView):
    invalid_error = ApprovalInvalid


# --- Schema helpers ---------------------------------------------------------------


def path_id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


REQUEST_ID = path_id("The deployment request's id.")
DEPLOYMENT_ID = path_id("The deployment's id.")
VERSION_ID = path_id("The model version's id.")
FINDING_ID = path_id("The finding's id.")

BAD_REQUEST = error_response("Invalid fields; nothing was changed.")
NOT_FOUND = error_response("No such object, or one you may not see.")
FORBIDDEN = error_response("You may see this but not do this with it.")
CONFLICT = error_response("The object's state does not allow it; nothing was changed.")
