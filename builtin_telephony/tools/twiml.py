"""TwiML answers outside a call flow's walk: plain Python over ``twilio.twiml.voice_response``.

The flow engine (``tools/flow/runtime.py``) builds the TwiML of a walk; what a call gets before or
outside any flow (a rejection, an explanation then a hang-up, the ``<Dial>`` of an outgoing call)
is built here, so that models never handle ``VoiceResponse`` themselves.
"""
from twilio.twiml.voice_response import VoiceResponse

from . import speech

# The softphone leg's status callback events that tell who answered and when they are free.
CLIENT_EVENTS = 'ringing answered completed'
# Both sides of a call recorded from the moment it is answered.
RECORD_FROM_ANSWER = 'record-from-answer-dual'


def reject(reason='rejected'):
    """<Reject/> a call before any flow runs (blocked caller...): reason 'rejected' or 'busy'."""
    response = VoiceResponse()
    response.reject(reason='busy' if reason == 'busy' else 'rejected')
    return str(response)


def say_and_hang_up(text, language=None):
    """Say ``text`` (already translated into ``language``, a ``<Say language>``), then hang up."""
    response = VoiceResponse()
    response.say(text, **speech.prompt_attributes(language))
    response.hangup()
    return str(response)


def hang_up():
    response = VoiceResponse()
    response.hangup()
    return str(response)


def recording_settings(recording_callback_url):
    """The ``<Dial>`` attributes that record a call and report the recording to us."""
    return {'record': RECORD_FROM_ANSWER,
            'recording_status_callback': recording_callback_url,
            'recording_status_callback_event': 'completed'}


def outbound_dial(caller_id, to_number, time_limit, action_url, recording_callback_url=None):
    """``<Dial>`` of an outgoing call from ``caller_id`` to ``to_number``, for at most
    ``time_limit`` seconds; recorded when ``recording_callback_url`` is given."""
    response = VoiceResponse()
    recording = recording_settings(recording_callback_url) if recording_callback_url else {}
    dial = response.dial(caller_id=caller_id, time_limit=time_limit, method='POST',
                         action=action_url, **recording)
    dial.number(to_number)
    return str(response)
