from . import twilio_webhook
