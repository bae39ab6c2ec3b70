"""The flow builder on a 50-state flow, in headless Chromium (CONTRACTS.md: opens in ≤ 500 ms,
dragging a state keeps the p95 frame time ≤ 20 ms, publishing answers in ≤ 300 ms).

The script writes a valid 50-state flow (every state type, no positions: the builder arranges it
as it opens) into the bench database, starts Odoo with ``--workers=2`` (benchlib.OdooServer),
and runs bench/flow_builder_browser.mjs (Playwright driving the system's Chromium), which
measures in the page:

- open: from asking the web client for the builder's action (what "Edit call flow" does) to the
  51st card (the Start node and 50 states) in the DOM and painted — the two RPCs included;
- drag: a card dragged for 120 frames, one pointer move per animation frame; the frame time is
  the time between two frames (a 60 Hz display gives 16.7 ms when nothing is late);
- publish: from the click on Publish to the new version shown (save the draft, publish, read
  the flow again: three RPCs), and the ``action_publish`` RPC alone.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, OdooServer, load_odoo  # noqa: E402

GOALS = {'open_ms': 500, 'drag_p95_ms': 20, 'publish_ms': 300}


def fifty_states(user_id, group_id):
    """A valid flow of 50 states: a welcome, a 9-key menu, and per key a department (transfer),
    its sub-menu, an agent, a voicemail and a goodbye; the menu's timeout to a closed
    announcement; every goodbye to a last voicemail, then thanks."""
    def text(words):
        return {'kind': 'text', 'text': words, 'language': 'en-US'}
    states = {
        'welcome': {'type': 'announce', 'name': 'Welcome', 'message': text('Welcome.'),
                    'next': {'next': 'main'}},
        'main': {'type': 'ivr', 'name': 'Main menu', 'message': text('Choose a department.'),
                 'next': {'timeout': 'closed'}},
        'closed': {'type': 'announce', 'name': 'Closed', 'message': text('We are closed.'),
                   'next': {'next': 'final'}},
        'final': {'type': 'voicemail', 'name': 'Last voicemail', 'message': text('Leave a message.'),
                  'timeout': 5, 'max_length': 120, 'next': {'timeout': 'thanks'}},
        'thanks': {'type': 'announce', 'name': 'Thanks', 'message': text('Thanks.'), 'next': {}},
    }
    for key in range(1, 10):
        dept, sub, agent, vm, bye = (f'{kind}_{key}' for kind in ('dept', 'sub', 'agent', 'vm', 'bye'))
        states['main']['next'][str(key)] = dept
        states[dept] = {'type': 'transfer_group', 'name': f'Department {key}', 'group_id': group_id,
                        'ring_strategy': 'sequential' if key % 2 else 'parallel',
                        'ring_timeout': 30, 'user_timeout': 15, 'record': bool(key % 3),
                        'queue': {'enabled': key % 2 == 0, 'max_calls': 5, 'music_loops': 2,
                                  'music': {'kind': 'url', 'url': 'https://example.com/hold.mp3'}},
                        'next': {'timeout': sub, 'unavailable': vm, 'busy': vm}}
        states[sub] = {'type': 'ivr', 'name': f'Sub-menu {key}', 'message': text('Press 1.'),
                       'next': {'1': agent, 'timeout': vm}}
        states[agent] = {'type': 'transfer_user', 'name': f'Agent {key}', 'user_id': user_id,
                         'ring_timeout': 20, 'queue': {'enabled': False},
                         'next': {'timeout': vm, 'unavailable': vm, 'busy': vm}}
        states[vm] = {'type': 'voicemail', 'name': f'Voicemail {key}', 'message': text('Speak.'),
                      'timeout': 5, 'max_length': 60, 'next': {'timeout': bye}}
        states[bye] = {'type': 'announce', 'name': f'Goodbye {key}', 'message': text('Bye.'),
                       'next': {'next': 'final'}}
    assert len(states) == 50
    return {'start': 'welcome', 'states': states}


def prepare(registry):
    import odoo
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        admin = env.ref('base.user_admin')
        admin.write({'groups_id': [(4, env.ref('builtin_telephony.group_telephony_admin').id)]})
        company = admin.company_id
        env['telephony.account']._get_for_company(company).provider = 'sandbox'
        agent = env['telephony.user'].search([('user_id', '=', admin.id)], limit=1) or \
            env['telephony.user'].create({'user_id': admin.id, 'company_id': company.id})
        group = env['telephony.group'].create({'name': 'Bench group', 'company_id': company.id,
                                               'member_ids': [(6, 0, agent.ids)]})
        flow = env['telephony.flow'].create({
            'name': 'Bench flow (50 states)', 'company_id': company.id,
            'definition': json.dumps(fifty_states(agent.id, group.id))})
        problems = flow.validate_definition(flow.definition)
        assert not problems, problems
        return flow.id


def main():
    args, registry = load_odoo(__doc__.splitlines()[0])
    flow_id = prepare(registry)
    with OdooServer(args.db) as server:
        output = subprocess.run(
            ['node', os.path.join(ROOT, 'bench', 'flow_builder_browser.mjs'), server.url,
             str(flow_id), str(args.repeat)],
            check=True, capture_output=True, text=True, cwd=ROOT).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    print(f"50-state flow, medians of {args.repeat} runs (each figure: median, min–max):")
    for name, goal in GOALS.items():
        runs = figures[name]
        median = sorted(runs)[len(runs) // 2]
        verdict = 'met' if median <= goal else 'MISSED'
        print(f"  {name:12} {median:7.1f} ms  ({min(runs):.1f}–{max(runs):.1f})  goal ≤ {goal} ms: {verdict}")
    runs = figures['publish_rpc_ms']
    print(f"  {'publish_rpc':12} {sorted(runs)[len(runs) // 2]:7.1f} ms  (action_publish alone)")
    print(f"  drag frames measured per run: {figures['frames']}; cards: {figures['cards']}")


if __name__ == '__main__':
    main()
