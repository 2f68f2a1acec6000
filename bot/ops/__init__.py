"""Running the bot yourself: health and metrics over HTTP, structured logs, database backups.

Platform-neutral like the core: an adapter hands in its connection (:class:`PlatformConnection`)
and records the commands it serves; everything else is read from the core and its database.
"""

from bot.ops.endpoint import OpsEndpoint, OpsEndpointError, start_ops_endpoint
from bot.ops.health import HealthCheck, HealthReport, PlatformConnection
from bot.ops.metrics import BotMetrics, CommandOutcome

__all__ = [
    "BotMetrics",
    "CommandOutcome",
    "HealthCheck",
    "HealthReport",
    "OpsEndpoint",
    "OpsEndpointError",
    "PlatformConnection",
    "start_ops_endpoint",
]
