"""A Slack-compatible fake (placeholder docstring)."""

from .driver import HttpDriver, NotAllowed, SlackDriver, SocketModeDriver, slack_signature
from .harness import BoltHttpServer, bolt_app, http_app, serving_http, socket_mode_app, web_client
from .models import (
    ApiCall,
    Delivery,
    EphemeralMessage,
    ResponseUrl,
    ResponseUrlPost,
    SlackChannel,
    SlackMessage,
    SlackTeam,
    SlackUser,
    SlackUserGroup,
    SlackView,
)
from .ratelimit import RateLimitStorm
from .server import DEFAULT_SCOPES, FakeSlack, InjectedError, SlackError, SocketConnection

__all__ = [
    "DEFAULT_SCOPES",
    "ApiCall",
    "BoltHttpServer",
    "Delivery",
    "EphemeralMessage",
    "FakeSlack",
    "HttpDriver",
    "InjectedError",
    "NotAllowed",
    "RateLimitStorm",
    "ResponseUrl",
    "ResponseUrlPost",
    "SlackChannel",
    "SlackDriver",
    "SlackError",
    "SlackMessage",
    "SlackTeam",
    "SlackUser",
    "SlackUserGroup",
    "SlackView",
    "SocketConnection",
    "SocketModeDriver",
    "bolt_app",
    "http_app",
    "serving_http",
    "slack_signature",
    "socket_mode_app",
    "web_client",
]
