"""What several parts of the add-on write the same way: routes, vocabularies, step events.

Plain Python, imported by models, controllers, the flow engine (``tools/flow/``) and the gateways.
"""
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__, default_lang='en_US')

# ------------------------------------------------------------------------------------------------
# Routes Twilio calls (docs/contracts.md). The numbers, the TwiML App and the TwiML we answer point
# at them; controllers/voice.py serves them.
# ------------------------------------------------------------------------------------------------

VOICE_ROUTE = '/telephony/twilio/voice'                  # voice URL of every number we buy
STATUS_ROUTE = '/telephony/twilio/status'                # status callback of calls
RECORDING_ROUTE = '/telephony/twilio/recording'          # recording status callback
CLIENT_ROUTE = '/telephony/twilio/client'                # voice URL of the TwiML App (softphone)
CLIENT_STATUS_ROUTE = '/telephony/twilio/client_status'  # status callback of a softphone leg
OUTBOUND_DIAL_ROUTE = '/telephony/twilio/outbound_dial'  # <Dial> action of an outgoing call
CALLER_ID_ROUTE = '/telephony/twilio/caller_id'          # outgoing caller ID verification
TRANSCRIPTION_ROUTE = '/telephony/twilio/transcription'  # transcription callback of voicemails
# The action URLs of the TwiML a call flow answers: FLOW_ROUTE + one of FLOW_ACTIONS.
FLOW_ROUTE = '/telephony/twilio/flow/'
FLOW_ACTIONS = ('gather', 'dial', 'record', 'queue_wait', 'queue_key', 'queue_result', 'event',
                'connect')

# Routes of the web client (docs/contracts.md): the call history's CSV, a recording's audio.
CALLS_EXPORT_ROUTE = '/telephony/calls/export.csv'
RECORDING_PLAY_ROUTE = '/telephony/recording/'

# ------------------------------------------------------------------------------------------------
# Vocabularies
# ------------------------------------------------------------------------------------------------

NUMBER_TYPES = [('local', "Local"), ('mobile', "Mobile"), ('toll_free', "Toll-free")]
NUMBER_TYPE_CODES = tuple(code for code, _label in NUMBER_TYPES)
DIRECTIONS = [('inbound', "Incoming"), ('outbound', "Outgoing")]

# ------------------------------------------------------------------------------------------------
# Call-step events (telephony.call.step.event), besides the events a state raises (the keys of
# tools/flow/definition.py EVENTS: 'next', '0'..'9', '*', 'timeout', 'busy', 'unavailable',
# 'open', 'closed').
# ------------------------------------------------------------------------------------------------

# Written by the flow engine along a call's path.
STEP_ENTERED = 'entered'
STEP_INVALID_KEY = 'invalid_key'
STEP_RINGING = 'ringing'
STEP_QUEUED = 'queued'
STEP_DEQUEUED = 'dequeued'
STEP_ANSWERED = 'answered'
STEP_BRIDGED = 'bridged'
STEP_VOICEMAIL = 'voicemail'
STEP_HANGUP = 'hangup'
STEP_CALLBACK = 'callback'
# Written by telephony.call outside a flow's walk.
STEP_FAULT = 'fault'
STEP_BLOCKED = 'blocked'
STEP_NO_FLOW = 'no_flow'
STEP_NO_CREDIT = 'no_credit'
STEP_NO_RATE = 'no_rate'
STEP_NOT_ALLOWED = 'not_allowed'
STEP_DESTINATION_REFUSED = 'destination_refused'
STEP_COUNTRY_REFUSED = 'country_refused'
STEP_SPEND_LIMIT = 'spend_limit'
STEP_NO_CALLER_ID = 'no_caller_id'
STEP_DIALING = 'dialing'

# How telephony.call.step describes each event (translated when read).
STEP_EVENT_LABELS = {
    STEP_ENTERED: _lt("Entered"),
    'next': _lt("Message played"),
    'timeout': _lt("Timeout"),
    'busy': _lt("Busy"),
    'unavailable': _lt("Unavailable"),
    STEP_INVALID_KEY: _lt("Invalid key pressed"),
    STEP_RINGING: _lt("Ringing"),
    STEP_QUEUED: _lt("Put in the queue"),
    STEP_DEQUEUED: _lt("Taken from the queue: an agent became free"),
    STEP_ANSWERED: _lt("Answered"),
    STEP_BRIDGED: _lt("Connected from the queue"),
    STEP_VOICEMAIL: _lt("Voicemail left"),
    STEP_HANGUP: _lt("Caller hung up"),
    STEP_CALLBACK: _lt("Asked to be called back instead of waiting"),
    'open': _lt("Open"),
    'closed': _lt("Closed"),
    STEP_FAULT: _lt("Technical fault: the caller heard an apology"),
    STEP_BLOCKED: _lt("Rejected: the caller is on the block list"),
    STEP_NO_FLOW: _lt("Rejected: the number has no published, enabled call flow"),
    STEP_NO_CREDIT: _lt("Refused: not enough credits"),
    STEP_NO_RATE: _lt("Refused: no call rate for this destination"),
    STEP_NOT_ALLOWED: _lt("Refused: outgoing calls are not allowed for this user"),
    STEP_DESTINATION_REFUSED: _lt("Refused: this destination cannot be called"),
    STEP_COUNTRY_REFUSED: _lt("Refused: outgoing calls may not reach this country"),
    STEP_SPEND_LIMIT: _lt("Refused: the daily limit of outgoing calls is reached"),
    STEP_NO_CALLER_ID: _lt("Refused: no outgoing caller ID"),
    STEP_DIALING: _lt("Dialing"),
}
