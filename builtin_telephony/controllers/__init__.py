from . import twilio_webhook
from . import caller_id
