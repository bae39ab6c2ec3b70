from . import twilio_webhook
from . import voice
from . import caller_id
from . import softphone
from . import payment
from . import call_history
from . import recording
from . import audio
