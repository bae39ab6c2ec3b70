"""Readable lines of a call-flow definition, for the draft/published comparison.

Plain Python over the vocabulary of :mod:`.definition`.
"""
from .definition import (
    EMAIL_TO_GROUP, EMAIL_TO_OWNER, IVR_TIMEOUT, callback_key, identity, load_definition, ordered_connections, queue_settings, setting, state_name,
    states_of, type_label, walk_order,
)


def describe_definition(definition, users=None, groups=None, _=identity, calendars=None):
    """One dict per state (start first, then breadth-first) with readable lines.

    Keys: ``id``, ``name``, ``type``, ``type_label``, ``settings`` (list of str) and
    ``connections`` (list of str like "Main menu —1→ Sales"). ``users`` / ``groups`` map ids to
    display names, ``calendars`` working-hours calendar ids to their name and time zone. A
    definition that cannot be read describes as [].
    """
    try:
        definition = load_definition(definition)
    except ValueError:
        return []
    states = states_of(definition)
    entries = []
    for state_id in walk_order(definition):
        state = states[state_id]
        name = state_name(state_id, state)
        if state.get('type') == 'business_hours':
            describe = lambda state, users, groups, _: _describe_business_hours(  # noqa: E731
                state, calendars or {}, _)
        else:
            describe = STATE_DESCRIBERS.get(state.get('type'))
        entries.append({
            'id': state_id,
            'name': name,
            'type': state.get('type'),
            'type_label': type_label(state.get('type'), _),
            'settings': describe(state, users or {}, groups or {}, _) if describe else [],
            'connections': [
                '%s —%s→ %s' % (name, event, state_name(target, states.get(target, {})))
                for event, target in ordered_connections(state) if target
            ],
        })
    return entries


def _describe_message(message, _):
    if not isinstance(message, dict):
        return _('none')
    kind = message.get('kind')
    if kind == 'text':
        text = _('“%(text)s” read aloud') % {'text': message.get('text', '')}
        if message.get('language'):
            text += ' (%s)' % message['language']
        return text
    if kind == 'url':
        return _('audio %(url)s') % {'url': message.get('url', '')}
    if kind == 'file':
        return _('audio file #%(id)s') % {'id': message.get('attachment_id', '')}
    return _('none')


def _describe_announce(state, users, groups, _):
    return [_('Message: %s') % _describe_message(state.get('message'), _)]


def _describe_ivr(state, users, groups, _):
    return [_('Announcement: %s') % _describe_message(state.get('message'), _),
            _('Menu timeout: %(seconds)s s') % {'seconds': IVR_TIMEOUT}]


def _describe_voicemail(state, users, groups, _):
    lines = [_('Prompt: %s') % _describe_message(state.get('message'), _),
             _('Silence timeout: %(seconds)s s') % {'seconds': setting(state, 'timeout')},
             _('Maximum message length: %(seconds)s s') % {'seconds': setting(state, 'max_length')}]
    if state.get('transcribe'):
        lines.append(_('Transcription: on'))
    email_to = state.get('email_to')
    if email_to == EMAIL_TO_OWNER:
        lines.append(_('E-mailed to: the user the call was for'))
    elif email_to == EMAIL_TO_GROUP:
        lines.append(_('E-mailed to: the members of the group the call was for'))
    elif email_to:
        lines.append(_('E-mailed to: %(address)s') % {'address': email_to})
    return lines


def _describe_business_hours(state, calendars, _):
    calendar_id = state.get('calendar_id')
    return [_('Working hours: %s') % calendars.get(calendar_id, '#%s' % calendar_id),
            _("Open during the calendar's working hours, in its time zone; closed outside them "
              "and on its public holidays")]


def _describe_transfer(state, _):
    lines = [_('Ring timeout: %(seconds)s s') % {'seconds': setting(state, 'ring_timeout')},
             _('Recording: on') if state.get('record') else _('Recording: off')]
    queue = queue_settings(state)
    if not queue:
        return lines + [_('Queue: off')]
    return lines + [
        _('Queue: up to %(calls)s calls, hold music played %(loops)s times')
        % {'calls': setting(queue, 'max_calls'), 'loops': setting(queue, 'music_loops')},
        _('Caller notification: %s') % (_describe_message(queue['notify'], _)
                                         if queue.get('notify') else _('off')),
        _('Hold music: %s') % _describe_message(queue.get('music'), _),
    ] + ([_('Position and estimated wait announced between the loops')]
         if queue.get('announce_position') else []) + (
        [_('Call-back: press %(key)s to be called back') % {'key': callback_key(queue)}]
        if callback_key(queue) else [])


def _describe_transfer_user(state, users, groups, _):
    user_id = state.get('user_id')
    return [_('User: %s') % users.get(user_id, '#%s' % user_id)] + _describe_transfer(state, _)


def _describe_transfer_group(state, users, groups, _):
    group_id = state.get('group_id')
    if setting(state, 'ring_strategy') == 'sequential':
        ring_type = (_('Ring type: sequential, %(seconds)s s per member')
                     % {'seconds': setting(state, 'user_timeout')})
    else:
        ring_type = _('Ring type: parallel')
    return ([_('Group: %s') % groups.get(group_id, '#%s' % group_id), ring_type]
            + _describe_transfer(state, _))


STATE_DESCRIBERS = {
    'announce': _describe_announce,
    'ivr': _describe_ivr,
    'transfer_user': _describe_transfer_user,
    'transfer_group': _describe_transfer_group,
    'voicemail': _describe_voicemail,
}
