"""``modelreg ui``: the site's pages served from the repository as it is now.

Read-only and local: only ``GET`` and ``HEAD`` (anything else is 405), bound to 127.0.0.1
unless told otherwise, and a request whose ``Host`` or ``Origin`` header names anything but
this server is refused (403).  That last rule defeats DNS rebinding: a web page on
``evil.example`` that re-points its name at 127.0.0.1 can make the browser send requests
here, but they carry ``Host: evil.example``.  Each request reads the tags again through the
same library calls as the CLI, so a page always shows the registry as it is.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from modelreg.errors import InvalidInputError, NotFoundError, RegistryError
from modelreg.registry import Registry
from modelreg.site import data, html, links, pages

log = logging.getLogger("modelreg")

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARDS = {"", "0.0.0.0", "::"}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(value: str | None, bound: str, port: int) -> bool:
    """Whether a ``Host`` header value names this server: a loopback name, the address it
    is bound to, or (bound to every interface) any IP address; and its port."""
    if not value:
        return False
    try:
        parsed = urlsplit(f"//{value}")
        host, got_port = parsed.hostname, parsed.port
    except ValueError:
        return False
    if host is None or got_port != port:
        return False
    host = host.lower()
    if host in LOCAL_NAMES or host == bound.lower():
        return True
    return bound in WILDCARDS and _is_ip(host)


def origin_allowed(value: str | None, bound: str, port: int) -> bool:
    """Whether an ``Origin`` header (absent on plain navigations) is this server's own."""
    if value is None:
        return True
    try:
        parsed = urlsplit(value)
    except ValueError:
        return False
    if parsed.scheme != "http" or parsed.path not in ("", "/") or not parsed.netloc:
        return False
    return host_allowed(parsed.netloc, bound, port)


class Pages:
    """Renders the page a route names, from the registry as it is at this request."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.site = pages.Site(data_generator(), live=True)

    def render(self, path: str) -> str:
        route = links.route(path)
        reg, site = self.registry, self.site
        if route.kind == "overview":
            return pages.overview(data.board(reg), site)
        if route.kind == "search":
            return pages.search(data.search_rows(reg), site)
        assert route.model is not None
        bundle = data.model_bundle(reg, route.model, events=route.kind == "model")
        if route.kind == "model":
            return pages.model(bundle, site)
        assert route.version is not None
        if route.kind == "version":
            found = bundle.version(route.version)
            if found is None:
                raise NotFoundError(f"{route.model} has no version {route.version}")
            return pages.version(bundle, found, site)
        assert route.other is not None
        for version in (route.version, route.other):
            if bundle.version(version) is None:
                raise NotFoundError(f"{route.model} has no version {version}")
        comparison = reg.compare(route.model, route.version, route.other)
        return pages.compare(bundle, comparison, site)


def data_generator() -> str:
    from modelreg.site.build import generator

    return generator()


def _handler(pages_: Pages, bound: str, port_of: Callable[[], int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "modelreg-ui"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("ui: " + format, *args)

        def _refuse(
            self, status: HTTPStatus, message: str, extra: dict[str, str] | None = None
        ) -> None:
            body = f"{message}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _checked(self) -> bool:
            port = port_of()
            if not host_allowed(self.headers.get("Host"), bound, port):
                self._refuse(HTTPStatus.FORBIDDEN, "forbidden: Host is not this server")
                return False
            if not origin_allowed(self.headers.get("Origin"), bound, port):
                self._refuse(HTTPStatus.FORBIDDEN, "forbidden: Origin is not this server")
                return False
            return True

        def _page(self) -> None:
            if not self._checked():
                return
            try:
                status, body = HTTPStatus.OK, pages_.render(self.path)
            except (NotFoundError, InvalidInputError) as e:
                status, body = HTTPStatus.NOT_FOUND, pages.not_found(str(e), pages_.site)
            except RegistryError as e:
                status = HTTPStatus.INTERNAL_SERVER_ERROR
                body = pages.not_found(str(e), pages_.site)
            payload = body.encode("utf-8", errors="replace")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            # The pages carry their own policy too; this one covers every page's scripts.
            self.send_header("Content-Security-Policy", html.csp(script=True, search=True))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._page()

        def do_HEAD(self) -> None:  # noqa: N802
            self._page()

        def _read_only(self) -> None:
            if self._checked():
                self._refuse(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "modelreg ui is read-only: use the modelreg command to change the registry",
                    {"Allow": "GET, HEAD"},
                )

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _read_only  # noqa: N815

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A second `modelreg ui` on the same port must fail, not share it.
    allow_reuse_address = False


class Server6(Server):
    address_family = socket.AF_INET6


def make_server(registry: Registry, host: str = "127.0.0.1", port: int = 8765) -> Server:
    """A server for the registry's pages, bound but not yet serving (``port`` 0 picks a free
    one: read it from ``server.server_address``)."""
    holder: list[Server] = []

    def port_of() -> int:
        return int(holder[0].server_address[1])

    handler = _handler(Pages(registry), host, port_of)
    try:
        server = (Server6 if ":" in host else Server)((host, port), handler)
    except OSError as e:
        raise InvalidInputError(
            f"cannot listen on {host}:{port} ({e.strerror or e}): "
            "pick another port with --port (0 picks a free one)"
        ) from None
    holder.append(server)
    return server


def url_of(server: Server) -> str:
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = "127.0.0.1" if host in WILDCARDS else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"
