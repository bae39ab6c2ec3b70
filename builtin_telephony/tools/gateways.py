"""The gateway of a telephony account's provider (``telephony.account.provider``)."""
from .sandbox_gateway import SandboxGateway
from .twilio_gateway import TwilioGateway


def get_gateway(provider, account_sid, auth_token, http_client=None):
    """A ``TwilioGateway`` or ``SandboxGateway``: the same ``ProviderGateway`` interface.

    ``http_client`` (a ``twilio.http.HttpClient``) only matters to Twilio; tests pass Prism's.
    """
    if provider == 'twilio':
        return TwilioGateway(account_sid, auth_token, http_client=http_client)
    if provider == 'sandbox':
        return SandboxGateway(account_sid, auth_token)
    raise ValueError(f"Unknown telephony provider {provider!r}")
