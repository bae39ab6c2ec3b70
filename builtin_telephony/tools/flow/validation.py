"""Validation of a call-flow definition: every problem, in words an administrator understands.

Plain Python over the vocabulary of :mod:`.definition`; ``telephony.flow`` calls it with the ids
of the company's telephony users and groups and ``self.env._``.
"""
import re
from collections import Counter
from urllib.parse import urlparse

from .definition import (
    CALLBACK_KEYS, EMAIL_TO_GROUP, EMAIL_TO_OWNER, EVENTS, MAX_INCOMING, MAX_IVR_KEYS, RANGES,
    RING_STRATEGIES, allowed_events_label, connections, event_label, identity, is_state,
    load_definition, queue_settings, setting, state_name, states_of, type_label, walk_order,
)

# What a voicemail's ``email_to`` may be besides "owner" and "group": one plain address.
EMAIL_ADDRESS = re.compile(r'^[^@\s,;<>"]+@[^@\s,;<>"]+\.[^@\s,;<>"]+$')


# What <Say> accepts: Twilio reads at most 4,096 characters; a language tag (en-US, es, cmn-CN);
# a voice of Twilio's (man, woman, alice) or of its text-to-speech providers (Polly.Joanna,
# Google.en-US-Standard-C, Polly.Lupe-Neural).
MAX_SAY_LENGTH = 4096
LANGUAGE = re.compile(r'^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$')
VOICE = re.compile(r'^(man|woman|alice|(Polly|Google)\.[A-Za-z0-9-]{2,40})$')


def validate_definition(definition, users=None, groups=None, _=identity, calendars=None, attachments=None):
    """Every problem of ``definition`` (dict or JSON string), one sentence each; [] when valid.

    ``users`` / ``groups`` / ``calendars``: the ids of the telephony users / groups / working-hours
    calendars (``resource.calendar``) the flow's company may use (any container supporting
    ``in``); None skips that check. ``attachments``: the ids of the audio files uploaded to the
    flow, the only ones a ``file`` message may play; None skips that check.
    """
    try:
        definition = load_definition(definition)
    except (ValueError, TypeError) as error:
        return [_('The call flow is not valid JSON: %(error)s') % {'error': error}]
    if not isinstance(definition, dict) or not isinstance(definition.get('states'), dict):
        return [_('The call flow must be a JSON object with a "start" and "states".')]
    problems = _check_start(definition, _)
    for state_id, state in definition['states'].items():
        problems += _check_state(definition, state_id, state, users, groups, _, calendars)
    problems += _check_incoming(definition, _)
    problems += _check_cycles(definition, _)
    problems += _check_spoken_and_played(definition, attachments, _)
    return problems


def _messages(state):
    """``(what, message)`` of every message of a state: its own, its queue's notice and music."""
    if isinstance(state.get('message'), dict):
        yield 'message', state['message']
    queue = state.get('queue')
    if isinstance(queue, dict):
        for key in ('notify', 'music'):
            if isinstance(queue.get(key), dict):
                yield key, queue[key]


def _check_spoken_and_played(definition, attachments, _):
    """What <Say> reads (text, language, voice) and the audio files played."""
    problems = []
    for state_id, state in states_of(definition).items():
        label = state_name(state_id, state)
        for _what, message in _messages(state):
            params = {'state': label}
            if message.get('kind') == 'text':
                text, language, voice = message.get('text'), message.get('language'), message.get('voice')
                if isinstance(text, str) and len(text) > MAX_SAY_LENGTH:
                    problems.append(_('State "%(state)s": a text to read is longer than %(max)s characters.')
                                    % dict(params, max=MAX_SAY_LENGTH))
                if language not in (None, '') and not (isinstance(language, str) and LANGUAGE.match(language)):
                    problems.append(_('State "%(state)s": "%(language)s" is not a language Twilio reads '
                                      '(e.g. en-US, es-ES, cmn-CN).') % dict(params, language=language))
                if voice not in (None, '') and not (isinstance(voice, str) and VOICE.match(voice)):
                    problems.append(_('State "%(state)s": "%(voice)s" is not a voice Twilio has (e.g. '
                                      'alice, Polly.Joanna).') % dict(params, voice=voice))
            elif message.get('kind') == 'file' and attachments is not None and message.get('attachment_id'):
                attachment_id = message['attachment_id']
                if not isinstance(attachment_id, int) or attachment_id not in attachments:
                    problems.append(_('State "%(state)s": the audio file %(file)s is not an audio file '
                                      'uploaded to this call flow.') % dict(params, file=attachment_id))
    return problems


def _check_start(definition, _):
    start = definition.get('start')
    if not start:
        return [_('The call flow has no start: connect the start to a state.')]
    if not is_state(start, states_of(definition)):
        return [_('The start is connected to "%(target)s", which is not a state of this flow.')
                % {'target': start}]
    return []


def _check_state(definition, state_id, state, users, groups, _, calendars=None):
    if not isinstance(state, dict):
        return [_('State "%(state)s" is not a valid state.') % {'state': state_id}]
    label = state_name(state_id, state)
    state_type = state.get('type')
    if state_type not in EVENTS:
        problems = [_('State "%(state)s" has an unknown type "%(type)s".')
                    % {'state': label, 'type': state_type}]
    else:
        problems = _check_events(label, state, _)
        if state_type == 'business_hours':
            problems += _check_business_hours(label, state, calendars, _)
        else:
            problems += STATE_CHECKS[state_type](label, state, users, groups, _)
    if state.get('next') is not None and not isinstance(state['next'], dict):
        problems.append(_('State "%(state)s": its connections must map events to states.')
                        % {'state': label})
    states = states_of(definition)
    for event, target in connections(state).items():
        if target and not is_state(target, states):
            problems.append(
                _('State "%(state)s": the %(event)s connection leads to "%(target)s", which is not '
                  'a state of this flow.')
                % {'state': label, 'event': event_label(event, _), 'target': target})
    return problems


def _check_events(label, state, _):
    state_type = state['type']
    problems = [
        _('State "%(state)s" (%(type)s) cannot have a %(event)s connection; it can have: '
          '%(allowed)s.')
        % {'state': label, 'type': type_label(state_type, _), 'event': event_label(event, _),
           'allowed': allowed_events_label(state_type, _)}
        for event in connections(state) if event not in EVENTS[state_type]
    ]
    if state_type == 'ivr':
        keys = [event for event in connections(state) if event != 'timeout']
        if len(keys) > MAX_IVR_KEYS:
            problems.append(
                _('State "%(state)s" has %(count)s menu keys; an IVR menu has at most 11 keys '
                  '(0 to 9 and *).') % {'state': label, 'count': len(keys)})
    return problems


def _check_range(label, settings, key, setting_label, _):
    value = setting(settings, key)
    low, high = RANGES[key]
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [_('State "%(state)s": %(setting)s must be a whole number from %(low)s to %(high)s '
              '(it is %(value)s).')
            % {'state': label, 'setting': setting_label, 'low': low, 'high': high, 'value': value}]


def _check_message(label, message, what, _, audio_only=False):
    """Problems of a message; ``what`` names it in the sentence ("announcement", ...)."""
    params = {'state': label, 'what': what}
    if not isinstance(message, dict):
        return [_('State "%(state)s": the %(what)s is missing.') % params]
    kind = message.get('kind')
    if kind == 'text' and not audio_only:
        text = message.get('text')
        if not isinstance(text, str) or not text.strip():
            return [_('State "%(state)s": the %(what)s has no text to read.') % params]
    elif kind == 'url':
        url = message.get('url')
        parsed = urlparse(url) if isinstance(url, str) else None
        if not parsed or parsed.scheme not in ('http', 'https') or not parsed.netloc:
            return [_('State "%(state)s": the %(what)s needs an http:// or https:// URL.') % params]
    elif kind == 'file':
        if not message.get('attachment_id'):
            return [_('State "%(state)s": the %(what)s needs an uploaded audio file.') % params]
    elif audio_only:
        return [_('State "%(state)s": the %(what)s must be an audio file or an audio URL.')
                % params]
    else:
        return [_('State "%(state)s": the %(what)s must be a text to read, an audio file or an '
                  'audio URL.') % params]
    return []


def _check_announce(label, state, users, groups, _):
    return _check_message(label, state.get('message'), _('message'), _)


def _check_ivr(label, state, users, groups, _):
    return _check_message(label, state.get('message'), _('announcement'), _)


def _check_boolean(label, settings, key, setting_label, _):
    if settings.get(key) is None or isinstance(settings.get(key), bool):
        return []
    return [_('State "%(state)s": %(setting)s must be true or false.')
            % {'state': label, 'setting': setting_label}]


def _check_voicemail(label, state, users, groups, _):
    problems = (_check_message(label, state.get('message'), _('prompt'), _)
                + _check_range(label, state, 'timeout', _('the silence timeout (seconds)'), _)
                + _check_range(label, state, 'max_length',
                               _('the maximum message length (seconds)'), _)
                + _check_boolean(label, state, 'transcribe', _('the transcription'), _))
    email_to = state.get('email_to')
    if email_to not in (None, '', False, EMAIL_TO_OWNER, EMAIL_TO_GROUP) and not (
            isinstance(email_to, str) and EMAIL_ADDRESS.match(email_to.strip())):
        problems.append(
            _('State "%(state)s": messages can be e-mailed to "owner" (the user the call was for), '
              '"group" (the members of the group it was for) or one e-mail address, not '
              '"%(value)s".') % {'state': label, 'value': email_to})
    return problems


def _check_business_hours(label, state, calendars, _):
    calendar_id = state.get('calendar_id')
    if not calendar_id or isinstance(calendar_id, bool) or not isinstance(calendar_id, int):
        return [_('State "%(state)s": choose the working hours (a working-hours calendar).')
                % {'state': label}]
    if calendars is not None and calendar_id not in calendars:
        return [_('State "%(state)s": working-hours calendar #%(id)s does not exist in the '
                  "flow's company.") % {'state': label, 'id': calendar_id}]
    return []


def _check_transfer(label, state, _):
    """The settings both transfer types share: ring timeout and queue."""
    problems = _check_range(label, state, 'ring_timeout', _('the ring timeout (seconds)'), _)
    queue = state.get('queue')
    if queue is not None and not isinstance(queue, dict):
        return problems + [_('State "%(state)s": the queue settings are not valid.')
                           % {'state': label}]
    queue = queue_settings(state)
    if queue:
        problems += _check_range(label, queue, 'max_calls',
                                 _('the maximum number of calls in the queue'), _)
        problems += _check_range(label, queue, 'music_loops',
                                 _('the number of times the hold music plays'), _)
        if queue.get('notify'):
            problems += _check_message(label, queue['notify'], _('caller notification'), _)
        problems += _check_message(label, queue.get('music'), _('hold music'), _, audio_only=True)
        problems += _check_boolean(label, queue, 'announce_position',
                                   _('the announcement of the position in the queue'), _)
        callback = queue.get('callback')
        if callback is not None and not isinstance(callback, dict):
            problems.append(_('State "%(state)s": the call-back settings are not valid.')
                            % {'state': label})
        elif callback and callback.get('enabled') and \
                str(callback.get('key') or '1') not in CALLBACK_KEYS:
            problems.append(_('State "%(state)s": the call-back key must be one of 0 to 9 or * '
                              '(it is "%(value)s").') % {'state': label, 'value': callback['key']})
    return problems


def _check_transfer_user(label, state, users, groups, _):
    problems = _check_transfer(label, state, _)
    user_id = state.get('user_id')
    if not user_id:
        problems.append(_('State "%(state)s": choose the user to transfer the call to.')
                        % {'state': label})
    elif users is not None and user_id not in users:
        problems.append(_('State "%(state)s": telephony user #%(id)s does not exist in the '
                          "flow's company.") % {'state': label, 'id': user_id})
    return problems


def _check_transfer_group(label, state, users, groups, _):
    problems = _check_transfer(label, state, _)
    group_id = state.get('group_id')
    if not group_id:
        problems.append(_('State "%(state)s": choose the group to transfer the call to.')
                        % {'state': label})
    elif groups is not None and group_id not in groups:
        problems.append(_('State "%(state)s": telephony group #%(id)s does not exist in the '
                          "flow's company.") % {'state': label, 'id': group_id})
    strategy = setting(state, 'ring_strategy')
    if strategy not in RING_STRATEGIES:
        problems.append(_('State "%(state)s": the ring type must be "parallel" or "sequential" '
                          '(it is "%(value)s").') % {'state': label, 'value': strategy})
    elif strategy == 'sequential':
        # The time per member only matters when members are rung one at a time.
        range_problems = _check_range(label, state, 'user_timeout',
                                      _('the ringing time per member (seconds)'), _)
        user_timeout = setting(state, 'user_timeout')
        ring_timeout = setting(state, 'ring_timeout')
        if not range_problems and isinstance(ring_timeout, int) and user_timeout > ring_timeout:
            range_problems.append(
                _('State "%(state)s": the ringing time per member (%(user_timeout)s s) cannot be '
                  'longer than the ring timeout (%(ring_timeout)s s).')
                % {'state': label, 'user_timeout': user_timeout, 'ring_timeout': ring_timeout})
        problems += range_problems
    return problems


STATE_CHECKS = {
    'announce': _check_announce,
    'ivr': _check_ivr,
    'transfer_user': _check_transfer_user,
    'transfer_group': _check_transfer_group,
    'voicemail': _check_voicemail,
}


def _check_incoming(definition, _):
    states = states_of(definition)
    incoming = Counter(target for state in states.values()
                       for target in connections(state).values() if is_state(target, states))
    if is_state(definition.get('start'), states):
        incoming[definition['start']] += 1
    return [_('State "%(state)s" has %(count)s incoming connections; a state accepts at most '
              '%(max)s (the start counts as one).')
            % {'state': state_name(state_id, states[state_id]), 'count': count,
               'max': MAX_INCOMING}
            for state_id, count in incoming.items() if count > MAX_INCOMING]


def find_cycles(definition):
    """Each cycle once, as the list of state ids along it (first id repeated at the end).

    Depth-first search from the start, then from the states not reached yet; every edge back to a
    state on the current path closes one cycle. Iterative, so a huge flow cannot overflow the stack.
    """
    states = states_of(definition)
    targets = {state_id: [t for t in connections(state).values() if is_state(t, states)]
               for state_id, state in states.items()}
    done, cycles = set(), []
    for root in walk_order(definition):
        if root in done:
            continue
        path, stack = [root], [iter(targets[root])]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                done.add(path.pop())
                stack.pop()
            elif target in path:
                cycle = path[path.index(target):] + [target]
                if cycle not in cycles:  # two keys to the same state close the same cycle
                    cycles.append(cycle)
            elif target not in done:
                path.append(target)
                stack.append(iter(targets[target]))
    return cycles


def _check_cycles(definition, _):
    states = states_of(definition)
    return [_('The call flow loops: %(path)s. A call may not come back to a state it has passed; '
              'remove one of these connections.')
            % {'path': ' → '.join(state_name(state_id, states[state_id]) for state_id in cycle)}
            for cycle in find_cycles(definition)]

