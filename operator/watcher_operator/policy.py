"""What the platform admin allows instances to be, beyond a valid spec: pure checks, no I/O.

Whoever may create a WatcherInstance gets the operator to run pods for them, with the operator's
rights. Two limits keep that to what a class needs: the images an instance may run (an allow-list,
by default only the operator's own image repository), and the names its children may take (never
those of the installation's own objects, e.g. the gateway's Service watcher-backend-service).
"""

from __future__ import annotations

import dataclasses

from watcher_operator import conventions as c
from watcher_operator.status import IMAGE_NOT_ALLOWED, RESERVED_NAME, Refusal

ANY_IMAGE = "*"


def repository(image: str) -> str:
    """The image without digest and tag: ``registry:5000/a/b:1`` -> ``registry:5000/a/b``."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


@dataclasses.dataclass(frozen=True, kw_only=True)
class Policy:
    # Repositories (any tag or digest of exactly that repository) or exact references; "*"
    # allows every image. Empty: only the default image's repository.
    allowed_images: tuple[str, ...] = ()
    reserved_names: frozenset[str] = frozenset()

    def image_allowed(self, image: str, default_image: str) -> bool:
        allowed = self.allowed_images or (repository(default_image),)
        return ANY_IMAGE in allowed or image in allowed or repository(image) in allowed

    def refusal(self, name: str, image: str, default_image: str) -> Refusal | None:
        """Why an instance named ``name`` running ``image`` is not allowed, if it is not."""
        taken = sorted({c.child_name(name), c.data_claim_name(name)} & self.reserved_names)
        if taken:
            return Refusal(
                RESERVED_NAME,
                f"WatcherInstance {name} would name its children {', '.join(taken)}, the name "
                "of this installation's own objects; choose another name",
            )
        if not self.image_allowed(image, default_image):
            allowed = ", ".join(self.allowed_images or (repository(default_image),))
            return Refusal(
                IMAGE_NOT_ALLOWED,
                f"spec.image {image} is not allowed here (allowed: {allowed}); the operator's "
                "WATCHER_OPERATOR_ALLOWED_IMAGES (chart value operator.allowedImages) lists them",
            )
        return None
