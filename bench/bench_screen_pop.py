"""Screen-pop benchmark (CONTRACTS.md §Benchmarks, SPEC P3, C2).

16 concurrent callers each call their own number, whose flow rings one salesperson's softphone.
Measured per call: from the moment Twilio's voice webhook is sent until the rung user's browser
has the caller's name, i.e. until the bus notification (``builtin_telephony/ringing``) arrives
on that user's websocket. The reference, in the same run and against the same server, is the
same bus notification sent to the same user by a minimal route (bench/addons/bench_reference,
``/bench/notify``), measured the same way. Both are measured alternately, in rounds.

Odoo runs in its own process with ``--workers=2`` and its real websocket (gevent) process on its
own database and ports. Prints p50/p99 of both, the ratio (goal: p50 ≤ 1.5× the reference, p99
≤ 1 s) and exits non-zero when a goal is missed.

Usage: ``.venv/bin/python bench/bench_screen_pop.py`` (after ``make setup``); options:
``--calls-per-caller``, ``--callers``, ``--db``, ``--keep-db``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import requests
import websocket
from twilio.request_validator import RequestValidator

from bench_inbound_call import install, percentile, rounds, shell
from benchlib import ROOT, OdooServer

GOALS = {'p50_ratio': 1.5, 'p99_seconds': 1.0}
ROUNDS = 4
WEBSOCKET_VERSION = '18.0-4'    # bus/websocket.py WebsocketConnectionHandler._VERSION

SETUP = """
import json
account = env['telephony.account']._get_for_company(env.company)
account.write({'provider': 'sandbox', 'webhook_base_url': %(base_url)r})
account.add_credits(100000, 'bench')
people = []
for index in range(%(callers)d):
    login = 'bench_seller_%%d' %% index
    user = env['res.users'].create({
        'name': 'Seller %%d' %% index, 'login': login, 'password': login + '-pass',
        'groups_id': [(6, 0, [env.ref('base.group_user').id,
                              env.ref('builtin_telephony.group_telephony_user').id])]})
    number = env['telephony.number'].create({
        'account_id': account.id, 'phone_number': '+1415555%%04d' %% (1000 + index),
        'country_id': env.ref('base.us').id, 'number_type': 'local',
        'provider_sid': 'PN' + ('bench%%d' %% index).zfill(32)})
    telephony_user = env['telephony.user'].create({'user_id': user.id, 'availability': 'available'})
    flow = env['telephony.flow'].create({'name': 'Line %%d' %% index, 'number_ids': [(6, 0, number.ids)],
        'definition': json.dumps({'start': 'ring', 'states': {'ring': {
            'type': 'transfer_user', 'user_id': telephony_user.id, 'ring_timeout': 20,
            'record': False, 'queue': {'enabled': False}, 'next': {}}}})})
    flow.action_publish()
    env['crm.lead'].create({'name': 'Lead %%d' %% index, 'phone': '+1212555%%04d' %% (1000 + index),
                            'user_id': user.id})
    people.append({'login': login, 'password': login + '-pass', 'user_id': user.id,
                   'number': number.phone_number, 'caller': '+1212555%%04d' %% (1000 + index)})
env.cr.commit()
print('SETUP=' + json.dumps({'account_sid': account.twilio_account_sid,
                             'auth_token': account.twilio_auth_token,
                             'voice_url': account.voice_webhook_url, 'people': people}))
"""


def prepare(db, base_url, callers):
    script = SETUP % {'base_url': base_url, 'callers': callers}
    output = subprocess.run(
        ['bash', '-c', f'source "{ROOT}/scripts/common.sh"; odoo shell -d {db} --no-http --log-level=warn'],
        input=script, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith('SETUP='))
    return json.loads(line.removeprefix('SETUP='))


class Browser:
    """One salesperson's browser: a session and the bus websocket the web client keeps open;
    records when each ``builtin_telephony/ringing`` notification arrives, by caller number."""

    def __init__(self, server, person):
        self.server, self.person = server, person
        self.session = requests.Session()
        response = self.session.post(server.url + '/web/session/authenticate', json={
            'jsonrpc': '2.0', 'method': 'call', 'params': {
                'db': server.db, 'login': person['login'], 'password': person['password']}},
            timeout=60)
        response.raise_for_status()
        self.arrivals = {}
        self.condition = threading.Condition()
        port = server.gevent_port or server.port    # threaded Odoo serves websockets itself
        origin = f'http://127.0.0.1:{port}'
        self.socket = websocket.create_connection(
            f'ws://127.0.0.1:{port}/websocket?version={WEBSOCKET_VERSION}',
            cookie=f"session_id={self.session.cookies['session_id']}", origin=origin, timeout=60)
        self.socket.send(json.dumps({'event_name': 'subscribe', 'data': {'channels': [], 'last': 0}}))
        self.thread = threading.Thread(target=self.listen, daemon=True)
        self.thread.start()

    def listen(self):
        while True:
            try:
                frame = self.socket.recv()
            except (websocket.WebSocketException, OSError):
                return
            arrived = time.perf_counter()
            for notification in json.loads(frame or '[]'):
                message = notification.get('message', {})
                if message.get('type') == 'builtin_telephony/ringing':
                    with self.condition:
                        self.arrivals[message['payload'].get('number')] = (
                            arrived, message['payload'].get('caller_name'))
                        self.condition.notify_all()

    def wait_for(self, number, timeout=30):
        with self.condition:
            self.condition.wait_for(lambda: number in self.arrivals, timeout=timeout)
            return self.arrivals.pop(number, (None, None))

    def close(self):
        self.socket.close()


class Caller:
    """Twilio calling one number, and the reference route, for one salesperson's browser."""

    def __init__(self, setup, person, browser, base_url):
        self.setup, self.person, self.browser, self.base_url = setup, person, browser, base_url
        self.http = requests.Session()
        self.validator = RequestValidator(setup['auth_token'])
        self.sequence = 0

    def next_number(self):
        # A caller number per call, so that each notification is told from the others; the
        # contact/lead matching still finds the salesperson's lead on the first ones.
        self.sequence += 1
        return self.person['caller'] if self.sequence == 1 else '+1646555%04d' % (
            (hash(self.person['login']) + self.sequence) % 10000)

    def call(self):
        number = self.next_number()
        params = {'AccountSid': self.setup['account_sid'], 'CallSid': 'CA' + uuid.uuid4().hex,
                  'From': number, 'To': self.person['number'], 'Direction': 'inbound',
                  'CallStatus': 'ringing', 'ApiVersion': '2010-04-01'}
        url = self.setup['voice_url']
        signature = self.validator.compute_signature(url, params)
        started = time.perf_counter()
        response = self.http.post(url, data=params, headers={'X-Twilio-Signature': signature},
                                  timeout=60)
        ok = response.status_code == 200 and b'<Client' in response.content
        arrived, _name = self.browser.wait_for(number)
        return (arrived - started if arrived else None), ok and arrived is not None

    def reference(self):
        number = self.next_number()
        started = time.perf_counter()
        response = self.http.post(self.base_url + '/bench/notify',
                                  data={'user': self.person['user_id'], 'From': number}, timeout=60)
        arrived, _name = self.browser.wait_for(number)
        return (arrived - started if arrived else None), response.status_code == 204 and arrived is not None


def run_concurrently(callers, count, work):
    durations, errors, lock = [], 0, threading.Lock()

    def run(caller):
        nonlocal errors
        for _index in range(count):
            duration, ok = work(caller)
            with lock:
                if ok:
                    durations.append(duration)
                else:
                    errors += 1

    threads = [threading.Thread(target=run, args=(caller,)) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return durations, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--calls-per-caller', type=int, default=20)
    parser.add_argument('--callers', type=int, default=16)
    parser.add_argument('--db', default=os.environ.get('BENCH_DB', 'telephony_bench'))
    parser.add_argument('--keep-db', action='store_true')
    parser.add_argument('--threaded', action='store_true',
                        help="Odoo without workers (where gevent cannot run); not the contract's set-up")
    args = parser.parse_args()

    db = f'{args.db}_screen_pop'
    print(f'[bench] installing builtin_telephony and bench_reference in {db}', file=sys.stderr)
    install(db)
    server = (OdooServer(db, addons=[ROOT + '/bench/addons'], workers=0) if args.threaded
              else OdooServer(db, addons=[ROOT + '/bench/addons'], bus=True))
    browsers = []
    try:
        setup = prepare(db, server.url, args.callers)
        with server:
            browsers = [Browser(server, person) for person in setup['people']]
            callers = [Caller(setup, person, browser, server.url)
                       for person, browser in zip(setup['people'], browsers)]
            time.sleep(1)   # every websocket subscribed
            run_concurrently(callers[:4], 2, Caller.call)          # warm-up
            run_concurrently(callers[:4], 2, Caller.reference)
            calls, call_errors, reference, reference_errors = [], 0, [], 0
            for count in rounds(args.calls_per_caller, ROUNDS):
                durations, errors = run_concurrently(callers, count, Caller.reference)
                reference += durations
                reference_errors += errors
                durations, errors = run_concurrently(callers, count, Caller.call)
                calls += durations
                call_errors += errors
    finally:
        for browser in browsers:
            browser.close()
        if not args.keep_db:
            shell(f'drop_db {db}')

    p50, ref50 = statistics.median(calls), statistics.median(reference)
    p99, ref99 = percentile(calls, 0.99), percentile(reference, 0.99)
    print(f'Screen pop: voice webhook sent → the rung user\'s websocket has the caller\'s name; '
          f'{args.callers} concurrent callers, {args.calls_per_caller} calls each, Odoo '
          + ('threaded (--workers=0)' if args.threaded else '--workers=2'))
    print(f'  calls: {len(calls)}, errors: {call_errors}; reference notifications: '
          f'{len(reference)}, errors: {reference_errors}')
    print(f'  p50: screen pop {p50 * 1000:.1f} ms, reference {ref50 * 1000:.1f} ms, '
          f'ratio {p50 / ref50:.2f} (goal ≤ {GOALS["p50_ratio"]})')
    print(f'  p99: screen pop {p99 * 1000:.1f} ms (goal ≤ {GOALS["p99_seconds"] * 1000:.0f} ms), '
          f'reference {ref99 * 1000:.1f} ms')
    success = (not call_errors and not reference_errors and p50 / ref50 <= GOALS['p50_ratio']
               and p99 <= GOALS['p99_seconds'])
    print('  ' + ('OK' if success else 'MISSED'))
    return 0 if success else 1


if __name__ == '__main__':
    sys.exit(main())
