"""Inbound-call benchmark (docs/contracts.md §Benchmarks, P3).

16 concurrent callers each place calls through a 3-state flow (IVR menu → transfer to a user,
voicemail on timeout), every call being the four webhooks Twilio sends: the voice webhook, the
Gather action (key 1), the Dial action (answered) and the status callback (completed, which
also charges the call). The reference, in the same run and against the same server, is the same
number of requests, from the same 16 clients, to a minimal Odoo route that reads one row by an
index (bench/addons/bench_reference).

Odoo runs in its own process with ``--workers=2`` on its own database and port. Prints p50/p99
per request of both, the ratios (goal: p50 ≤ 1.3, p99 ≤ 1.6, 0 errors) and exits non-zero when
a goal is missed.

Usage: ``.venv/bin/python bench/bench_inbound_call.py`` (after ``make setup``); options:
``--calls-per-caller``, ``--port``, ``--db``, ``--keep-db``.
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

from benchlib import OdooServer, configured_addons_path

ROOT = Path(__file__).resolve().parents[1]
BENCH_ADDONS = ROOT / 'bench' / 'addons'
CALLERS = 16
CALLER_NUMBER = '+14155550{:03d}'
OUR_NUMBER = '+14155550100'
GOALS = {'p50': 1.3, 'p99': 1.6}  # docs/contracts.md, benchmarks
ROUNDS = 5
WEBHOOKS = ('voice', 'gather', 'dial', 'status')

FLOW = {
    'start': 'menu',
    'states': {
        'menu': {'type': 'ivr', 'name': 'Main menu',
                 'message': {'kind': 'text', 'text': 'For sales, press 1.'},
                 'next': {'1': 'sales', 'timeout': 'vm'}},
        'sales': {'type': 'transfer_user', 'name': 'Sales', 'user_id': None, 'ring_timeout': 20,
                  'queue': {'enabled': False}, 'next': {'timeout': 'vm', 'busy': 'vm',
                                                        'unavailable': 'vm'}},
        'vm': {'type': 'voicemail', 'name': 'Voicemail',
               'message': {'kind': 'text', 'text': 'Leave a message.'}, 'next': {}},
    },
}


def shell(command):
    """Run a bash command with scripts/common.sh loaded (PG variables, odoo, template helpers)."""
    return subprocess.run(['bash', '-c', f'source "{ROOT}/scripts/common.sh"; {command}'],
                          check=True, capture_output=True, text=True).stdout.strip()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def install(db):
    """A database of the benchmark's own with the add-on and the reference module."""
    template = shell('base_template "$(manifest_depends),payment_demo"')
    shell(f'create_db {db} {template}')
    shell(f'odoo -d {db} --addons-path={configured_addons_path()},{BENCH_ADDONS} '
          f'-i builtin_telephony,bench_reference --without-demo=all --stop-after-init '
          f'--log-level=warn')


SETUP = """
import json
account = env['telephony.account']._get_for_company(env.company)
account.write({'provider': 'sandbox', 'webhook_base_url': %(base_url)r})
account.add_credits(100000, 'bench')
number = env['telephony.number'].create({
    'account_id': account.id, 'phone_number': %(number)r, 'country_id': env.ref('base.us').id,
    'number_type': 'local', 'provider_sid': 'PN' + 'bench'.zfill(32)})
telephony_user = env['telephony.user'].create({'user_id': env.ref('base.user_admin').id,
                                               'availability': 'available'})
flow = json.loads(%(flow)r)
flow['states']['sales']['user_id'] = telephony_user.id
flow = env['telephony.flow'].create({'name': 'Bench', 'definition': json.dumps(flow),
                                     'number_ids': [(6, 0, number.ids)]})
flow.action_publish()
env.cr.commit()
print('ACCOUNT=' + json.dumps({key: account[key] for key in (
    'twilio_account_sid', 'twilio_auth_token', 'voice_webhook_url', 'status_webhook_url')}))
"""


def prepare(db, base_url):
    """The account, its number, an available telephony user and the published flow, set up in
    an Odoo shell as an administrator would through the Built-in Telephony page."""
    script = SETUP % {'base_url': base_url, 'number': OUR_NUMBER, 'flow': json.dumps(FLOW)}
    output = subprocess.run(
        ['bash', '-c', f'source "{ROOT}/scripts/common.sh"; odoo shell -d {db} '
                       f'--no-http --log-level=warn'],
        input=script, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith('ACCOUNT='))
    return json.loads(line.removeprefix('ACCOUNT='))


class Caller:
    """One of the 16 concurrent callers, speaking Twilio's webhooks."""

    def __init__(self, index, account, base_url):
        self.index = index
        self.account = account
        self.base_url = base_url
        self.session = requests.Session()
        self.validator = RequestValidator(account['twilio_auth_token'])

    def post(self, url, params):
        signature = self.validator.compute_signature(url, params)
        started = time.perf_counter()
        response = self.session.post(url, data=params, headers={'X-Twilio-Signature': signature},
                                     timeout=60)
        elapsed = time.perf_counter() - started
        return response, elapsed

    def place_call(self):
        """The four webhooks of one answered call; returns (durations, errors)."""
        sid = 'CA' + uuid.uuid4().hex
        base = {'AccountSid': self.account['twilio_account_sid'], 'CallSid': sid,
                'From': CALLER_NUMBER.format(self.index), 'To': OUR_NUMBER,
                'Direction': 'inbound', 'CallStatus': 'in-progress', 'ApiVersion': '2010-04-01'}
        durations, errors = [], 0
        steps = [
            (self.account['voice_webhook_url'], dict(base, CallStatus='ringing'), 'Gather'),
            (None, dict(base, Digits='1'), 'Dial'),
            (None, dict(base, DialCallStatus='completed', DialCallDuration='60'), 'Hangup'),
            (self.account['status_webhook_url'], dict(base, CallStatus='completed',
                                                      CallDuration='75'), None),
        ]
        next_url = None
        for url, params, expected in steps:
            response, elapsed = self.post(url or next_url, params)
            durations.append(elapsed)
            if expected is None:
                errors += response.status_code not in (200, 204)
                continue
            try:
                root = ET.fromstring(response.content)
                verb = root.find(expected)
                if response.status_code != 200 or verb is None:
                    raise ValueError(response.text[:200])
                next_url = verb.get('action')
            except (ET.ParseError, ValueError) as error:
                print(f'caller {self.index}: unexpected answer: {error}', file=sys.stderr)
                return durations, errors + 1
        return durations, errors

    def reference(self, count):
        url = self.base_url + '/bench/reference'
        durations, errors = [], 0
        for _index in range(count):
            started = time.perf_counter()
            response = self.session.post(url, data={'To': OUR_NUMBER}, timeout=60)
            durations.append(time.perf_counter() - started)
            errors += response.status_code != 200
        return durations, errors


def run_concurrently(callers, work):
    durations, errors = [], 0
    with concurrent.futures.ThreadPoolExecutor(len(callers)) as pool:
        for caller_durations, caller_errors in pool.map(work, callers):
            durations += caller_durations
            errors += caller_errors
    return durations, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--calls-per-caller', type=int, default=25)
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--db', default=os.environ.get('BENCH_DB', 'telephony_bench'),
                        help="prefix of the benchmark's own database (bench/run.sh passes its own)")
    parser.add_argument('--keep-db', action='store_true')
    args = parser.parse_args()

    # A database of its own (the add-on and the reference module), since its server runs apart.
    db = f'{args.db}_inbound_call'
    print(f'[bench] installing builtin_telephony and bench_reference in {db}', file=sys.stderr)
    install(db)
    server = OdooServer(db, port=args.port or None, addons=[BENCH_ADDONS])
    try:
        account = prepare(db, server.url)
        with server:
            reference, reference_errors, calls, call_errors, per_webhook = measure(
                server, account, args.calls_per_caller)
    finally:
        if not args.keep_db:
            shell(f'drop_db {db}')

    figures = {
        'p50': (statistics.median(calls), statistics.median(reference)),
        'p99': (percentile(calls, 0.99), percentile(reference, 0.99)),
    }
    print(f'Inbound call through a 3-state flow, {CALLERS} concurrent callers, '
          f'{args.calls_per_caller} calls each, Odoo --workers=2')
    print(f'  webhook requests: {len(calls)}, errors: {call_errors}')
    print(f'  reference requests (one row by index): {len(reference)}, errors: {reference_errors}')
    print('  p50 per webhook: ' + ', '.join(
        f'{name} {statistics.median(values) * 1000:.1f} ms' for name, values in per_webhook.items()))
    success = call_errors == 0 and reference_errors == 0
    for name, (measured, ref) in figures.items():
        ratio = measured / ref
        ok = ratio <= GOALS[name]
        success &= ok
        print(f'  {name}: webhook {measured * 1000:.1f} ms, reference {ref * 1000:.1f} ms, '
              f'ratio {ratio:.2f} (goal ≤ {GOALS[name]}) {"OK" if ok else "MISSED"}')
    return 0 if success else 1


def measure(server, account, calls_per_caller):
    """Alternate rounds of the reference and of the calls, so that a change of load on the
    machine weighs on each alike: ``(reference durations, reference errors, webhook durations,
    webhook errors, {webhook: durations})``."""
    callers = [Caller(index, account, server.url) for index in range(CALLERS)]
    # Warm both paths up (registry loading in each worker, caches).
    run_concurrently(callers[:4], lambda caller: caller.place_call())
    run_concurrently(callers[:4], lambda caller: caller.reference(8))

    reference, reference_errors, calls, call_errors = [], 0, [], 0
    per_webhook = {name: [] for name in WEBHOOKS}
    for calls_in_round in rounds(calls_per_caller, ROUNDS):
        durations, errors = run_concurrently(
            callers, lambda caller: caller.reference(4 * calls_in_round))
        reference += durations
        reference_errors += errors
        durations, errors = run_concurrently(
            callers, lambda caller: caller_calls(caller, calls_in_round))
        calls += durations
        call_errors += errors
        for index, duration in enumerate(durations):
            per_webhook[WEBHOOKS[index % len(WEBHOOKS)]].append(duration)
    return reference, reference_errors, calls, call_errors, per_webhook


def rounds(total, count):
    """``total`` split in ``count`` near-equal positive parts."""
    count = max(1, min(count, total))
    return [total // count + (index < total % count) for index in range(count)]


def caller_calls(caller, count):
    durations, errors = [], 0
    for _index in range(count):
        call_durations, call_errors = caller.place_call()
        durations += call_durations
        errors += call_errors
    return durations, errors


if __name__ == '__main__':
    sys.exit(main())
