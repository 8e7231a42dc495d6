"""Which class a request belongs to: a pure function of its method and raw path.

The gateway must send a request to the instance that will answer it *as the class the instance
itself reads from the path*, so this module resolves paths exactly as the service's aiohttp router
does (watcher.api.routes, CONTRACT §1.6), without importing it:

- A path is split on `/` *before* percent-decoding (yarl's `path_safe`: `%2F` and `%25` stay
  encoded while splitting), so an encoded slash never creates a segment. Literal segments
  (`assignment`, `logs`, ...) are compared decoded; the class is decoded the way aiohttp decodes a
  path parameter. `/api/os%2D1/hw1/7` is class `os-1`.
- A parameter matches any one non-empty segment (the service registers `[^/]+`, braces included,
  as the original accepted them; the service's own patterns then decide what is valid).
- Routes are tried most specific first: those whose fixed prefix is longer
  (`/api/assignment/...`, `/api/graph_data/...`) before the generic `/api/{class_div}/...` ones,
  registration order among equals. That is aiohttp's resource index; for every request the
  service can answer it picks the same route as the original's registration order did.
- A route whose shape fits but whose method does not is a 405 from the instance: the request still
  goes to that route's class, and the most specific such route is taken.

Precedence examples (these are the contract, and tests/gateway/test_routing.py checks each):

- `GET /api/assignment/os-1/hw1` is the class summary of `os-1` (row 8), not the file list of
  student `hw1` in class `assignment` (row 13).
- `POST /api/assignment/hw1/7/f.c/20250310_060000` has six segments; the only six-segment route
  with a POST is row 12, `/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}`, so it is
  a snapshot of class `assignment` (which no instance serves: 404). Starting with `assignment` does
  not make the third segment a class: only row 8 does that, and it has four segments.
- `POST /api/snapshot_avg/os-1/hw1/7/main.c` is row 12 too (class `snapshot_avg`); the same path
  with GET is row 3 (class `os-1`). That is why the method is an input.
- `GET /api/assignments/snapshot_avg/os-1/hw1` (five segments) is row 14 with class `assignments`
  (the instance would answer 422 for the non-numeric student id).

A path that fits nothing is tried again as the service's path normaliser would redirect it
(`/api/assignment/os-1/hw1/` -> without the trailing slash, `//` -> `/`): the request goes to the
class of the redirect target, and the instance answers the 307 itself. Anything else, including
`/metrics` (row 15: the gateway's own), resolves to None.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from yarl import URL

CLASS = "{class_div}"


@dataclasses.dataclass(frozen=True, slots=True)
class LegacyRoute:
    row: int  # CONTRACT §1.6
    method: str
    template: str  # also the metrics label: one series per route, never per path
    segments: tuple[str, ...] = dataclasses.field(init=False, repr=False)
    class_index: int = dataclasses.field(init=False, repr=False)
    prefix_length: int = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        segments = tuple(self.template.split("/")[1:])
        set_ = object.__setattr__  # frozen dataclass: derived fields are set once here
        set_(self, "segments", segments)
        set_(self, "class_index", segments.index(CLASS))
        literal = [not s.startswith("{") for s in segments]
        set_(self, "prefix_length", literal.index(False))

    def fits(self, segments: list[str]) -> bool:
        """The path has this route's shape (the method is checked separately)."""
        if len(segments) != len(self.segments):
            return False
        for expected, actual in zip(self.segments, segments, strict=True):
            if expected.startswith("{"):
                if not actual:
                    return False
            elif expected != actual:
                return False
        return True


_STUDENT = "/api/{class_div}/{hw_name}/{student_id}"

# CONTRACT §1.6 in its order, without row 15 (`GET /metrics`), which has no class.
LEGACY_ROUTES: tuple[LegacyRoute, ...] = (
    LegacyRoute(1, "POST", _STUDENT + "/logs/build"),
    LegacyRoute(2, "POST", _STUDENT + "/logs/run"),
    LegacyRoute(3, "GET", "/api/snapshot_avg/{class_div}/{hw_name}/{student_id}/{filename}"),
    LegacyRoute(4, "GET", "/api/assignments/snapshot_avg/{class_div}/{hw_name}/{student_id}"),
    LegacyRoute(5, "GET", "/api/graph_data/{class_div}/{hw_name}/{student_id}/{interval}"),
    LegacyRoute(6, "GET", _STUDENT + "/logs/build"),
    LegacyRoute(7, "GET", _STUDENT + "/logs/run"),
    LegacyRoute(8, "GET", "/api/assignment/{class_div}/{hw_name}"),
    LegacyRoute(9, "GET", "/api/total_graph_data/{class_div}/{hw_name}/{start}/{end}"),
    LegacyRoute(10, "GET", "/api/build_avg/{class_div}/{hw_name}"),
    LegacyRoute(11, "GET", "/api/run_avg/{class_div}/{hw_name}"),
    LegacyRoute(12, "POST", _STUDENT + "/{filename}/{timestamp}"),
    LegacyRoute(13, "GET", _STUDENT),
    LegacyRoute(14, "GET", _STUDENT + "/{filename}"),
)

# Every v2 path names its class in the same place, whatever follows (watcher.api.routes registers
# them before the legacy routes, and their three-segment literal prefix puts them first here too).
V2_TEMPLATE = "/api/v2/classes/{class_div}/..."
_V2_PREFIX = ["api", "v2", "classes"]
_V2_CLASS_INDEX = 3


@functools.cache
def _v2_route(method: str) -> LegacyRoute:
    return LegacyRoute(0, method, V2_TEMPLATE)


# The order the service's router tries them: longest fixed prefix first (stable sort), grouped
# by segment count since only routes with as many segments as the path can fit.
_RESOLUTION_ORDER = tuple(sorted(LEGACY_ROUTES, key=lambda route: -route.prefix_length))
_BY_LENGTH: dict[int, tuple[LegacyRoute, ...]] = {
    length: tuple(r for r in _RESOLUTION_ORDER if len(r.segments) == length)
    for length in {len(route.segments) for route in LEGACY_ROUTES}
}


@dataclasses.dataclass(frozen=True, slots=True)
class RouteMatch:
    route: LegacyRoute
    class_div: str  # percent-decoded, as the instance reads it

    @property
    def family(self) -> str:
        return self.route.template


def match_route(method: str, raw_path: str) -> RouteMatch | None:
    """The legacy route and class of a request, or None when no legacy route can answer it.

    `raw_path` is the request target's path as sent (percent-encoded; a query is ignored).
    """
    path = raw_path.partition("?")[0]
    found = _resolve(method, _path_safe(path))
    if found is not None and found.route.method == method:
        return found
    for candidate in _normalised(path):
        redirected = _resolve(method, _path_safe(candidate))
        if redirected is not None and redirected.route.method == method:
            return redirected
    return found


def class_div_of(method: str, raw_path: str) -> str | None:
    """The class a request is for (decoded), or None for a path no legacy route answers."""
    found = match_route(method, raw_path)
    return None if found is None else found.class_div


def _resolve(method: str, path_safe: str) -> RouteMatch | None:
    """The route the service would run (method and shape fit), else the one that would 405."""
    segments = path_safe.split("/")[1:]
    if segments[:_V2_CLASS_INDEX] == _V2_PREFIX and len(segments) > _V2_CLASS_INDEX + 1:
        class_segment = segments[_V2_CLASS_INDEX]
        return (
            RouteMatch(_v2_route(method), _unquote_parameter(class_segment))
            if class_segment
            else None
        )
    shape_only: RouteMatch | None = None
    for route in _BY_LENGTH.get(len(segments), ()):
        if not route.fits(segments):
            continue
        found = RouteMatch(route, _unquote_parameter(segments[route.class_index]))
        if route.method == method:
            return found
        shape_only = shape_only or found
    return shape_only


def _path_safe(path: str) -> str:
    """yarl's decoding that aiohttp routes on: everything but `%2F` and `%25` decoded."""
    return URL.build(path=path, encoded=True).path_safe if "%" in path else path


def _unquote_parameter(segment: str) -> str:
    # What aiohttp does to a match_info value taken from `path_safe`.
    return segment.replace("%2F", "/").replace("%25", "%")


def _normalised(path: str) -> list[str]:
    """Redirect targets tried by aiohttp's normalize_path_middleware as watcher.app configures it
    (remove_slash=True, merge_slashes=True), in its order and with its quirks."""
    merged = re.sub("//+", "/", path)
    candidates = [merged]
    if URL.build(path=path, encoded=True).path.endswith("/"):  # decoded, as it checks
        candidates.append(path[:-1])
    candidates.append(merged[:-1])
    return [re.sub("^//+", "/", candidate) for candidate in candidates]
