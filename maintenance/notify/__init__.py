"""Notifications (docs/notices.md): a message, the channels (a webhook, e-mail over
SMTP), the send log (``notifications``) and the window notices.

Other areas use only what this module exports::

    from maintenance.notify import Message, Severity, Delivery, send, configured_channels
"""

from maintenance.notify.deliver import CHANNELS, configured_channels, send
from maintenance.notify.message import Delivery, Message, Severity

__all__ = ["CHANNELS", "Delivery", "Message", "Severity", "configured_channels", "send"]
