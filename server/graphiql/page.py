"""The GraphiQL page: every file from the facade itself, a strict Content-Security-Policy,
the viewer's inbox as the default query and, with the embedded runtime, a demo identity."""

from __future__ import annotations

import json
import re
import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse

from .assets import Assets

__all__ = ["DEFAULT_QUERY", "GraphiQLPage", "content_security_policy", "demo_headers"]

DEFAULT_QUERY = """\
# Your inbox: open tasks assigned to you or offered
# to one of your groups or roles. Who you are comes
# from the request: see the Headers tab below.
# Run it with Ctrl-Enter or the run button.
query Inbox {
  viewer {
    user
    groups
    inbox(first: 10) {
      totalCount
      nodes {
        id
        name
        process { name }
        status
        assignee
        candidateGroups
      }
    }
  }
}
"""

#: The demo identity's groups: the lanes of the bundled processes' first tasks
#: (BookingRoom's Clerk, LeaveRequest's Employee, Onboarding's HR).
DEMO_USER = "alice"
DEMO_GROUPS = ("Clerk", "Employee", "HR")

_SCRIPTS = ("react", "react-dom", "graphql-ws", "graphiql.js", "explorer.js", "oneweb.js")
_STYLES = ("graphiql.css", "explorer.css", "oneweb.css")
# A Host header the policy may name: a DNS name or IP literal with an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def demo_headers(user_header: str, groups_header: str) -> str:
    """The headers tab's prefill: the demo user and groups, as JSON."""
    return json.dumps({user_header: DEMO_USER, groups_header: ",".join(DEMO_GROUPS)}, indent=2)


def content_security_policy(host: str | None, style_nonce: str) -> str:
    """Everything from this origin only: no inline script, no eval, no other host.

    ``connect-src`` names ``ws(s)://`` of the page's own host for subscriptions (browsers
    older than CSP level 3 do not count them as ``'self'``). Images and fonts may also be
    ``data:`` URIs, which GraphiQL's style sheet embeds. The one ``<style>`` element
    GraphiQL adds itself (its dialogs' scroll lock) carries this response's nonce.
    """
    connect = "'self'"
    if host is not None and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{style_nonce}'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


class GraphiQLPage:
    """Renders the page for one facade: the demo headers only when ``demo_identity``."""

    def __init__(
        self, assets: Assets, *, user_header: str, groups_header: str, demo_identity: bool
    ) -> None:
        config = {
            "defaultQuery": DEFAULT_QUERY,
            "defaultHeaders": demo_headers(user_header, groups_header) if demo_identity else None,
        }
        # JSON in a data block, never executed; "<" escaped so no "</script>" can end it.
        data = json.dumps(config).replace("<", "\\u003c")
        tags = [
            f'<link rel="stylesheet" href="{asset.url}" integrity="{asset.integrity}">'
            for asset in (assets.by_id[name] for name in _STYLES)
        ]
        tags += [
            f'<script src="{asset.url}" integrity="{asset.integrity}" defer></script>'
            for asset in (assets.by_id[name] for name in _SCRIPTS)
        ]
        head = "\n    ".join(tags)
        page = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>oneweb-graphql · GraphiQL</title>
    <link rel="icon" href="data:,">
    {head}
    <meta name="graphiql-style-nonce" content="{{nonce}}">
    <script type="application/json" id="graphiql-config">{data}</script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
  </body>
</html>
"""
        self._before_nonce, self._after_nonce = page.split("{nonce}")

    def response(self, request: Request) -> HTMLResponse:
        """The page, with its policy for the host the browser asked and a fresh nonce."""
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(
            self._before_nonce + nonce + self._after_nonce,
            headers={
                "Content-Security-Policy": content_security_policy(
                    request.headers.get("host"), nonce
                ),
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )
