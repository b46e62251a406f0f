"""Image policy defaults, in code. Visibility and ownership rules live in the
service layer (they need the image's members); these rules gate the actions."""
from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
MEMBER = "role:member or rule:admin_required"
ANY_READER = "role:reader or rule:admin_required"


def _rule(name: str, check: str, description: str, method: str,
          path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name="image:" + name, check_str=check, description=description,
        operations=[{"method": method, "path": path}])


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("add_image", MEMBER, "Create an image.", "POST", "/v2/images"),
        _rule("get_images", ANY_READER, "List images.", "GET", "/v2/images"),
        _rule("get_image", ANY_READER, "Show an image; as Glance, also the rule of "
              "GET /v2/images/{image_id}/tasks (a refusal there is a 404).", "GET",
              "/v2/images/{image_id}"),
        _rule("modify_image", MEMBER, "Update an image (owner or admin).", "PATCH",
              "/v2/images/{image_id}"),
        _rule("delete_image", MEMBER, "Delete an image (owner or admin).", "DELETE",
              "/v2/images/{image_id}"),
        _rule("publicize_image", ADMIN, "Make an image public.", "PATCH",
              "/v2/images/{image_id}"),
        _rule("communitize_image", MEMBER, "Make an image community.", "PATCH",
              "/v2/images/{image_id}"),
        _rule("set_image_owner", ADMIN, "Create or move an image for another project.",
              "POST", "/v2/images"),
        _rule("upload_image", MEMBER, "Upload image data.", "PUT",
              "/v2/images/{image_id}/file"),
        _rule("download_image", ANY_READER, "Download image data.", "GET",
              "/v2/images/{image_id}/file"),
        _rule("deactivate", MEMBER, "Deactivate an image (owner or admin).", "POST",
              "/v2/images/{image_id}/actions/deactivate"),
        _rule("reactivate", MEMBER, "Reactivate an image (owner or admin).", "POST",
              "/v2/images/{image_id}/actions/reactivate"),
        _rule("add_member", MEMBER, "Share an image with a project.", "POST",
              "/v2/images/{image_id}/members"),
        _rule("modify_member", MEMBER, "Accept or reject a shared image.", "PUT",
              "/v2/images/{image_id}/members/{member_id}"),
        _rule("get_members", ANY_READER, "List an image's members.", "GET",
              "/v2/images/{image_id}/members"),
        _rule("delete_member", MEMBER, "Stop sharing an image with a project.", "DELETE",
              "/v2/images/{image_id}/members/{member_id}"),
        _rule("manage_image_cache", ADMIN, "Reserved for cache management.", "GET",
              "/v2/cache"),
    ]
