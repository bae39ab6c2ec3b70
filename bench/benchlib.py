"""What the benchmark scripts share: Odoo loaded on a database, timing helpers."""
import argparse
import os
import statistics
import time


def load_odoo(description):
    """Parse ``--db`` (and the usual Odoo config) and return ``(args, registry)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--db', default=os.environ.get('BENCH_DB', 'telephony_bench'))
    parser.add_argument('--repeat', type=int, default=5, help="runs of each measure; medians are reported")
    args = parser.parse_args()
    import odoo
    from odoo.tools import config
    config.parse_config(['-c', os.environ['ODOO_RC'], '-d', args.db, '--log-level=warn'])
    # 16 threads each hold a cursor, plus the set-up's.
    config['db_maxconn'] = 64
    registry = odoo.modules.registry.Registry(args.db)
    return args, registry


def median_seconds(func, repeat):
    """Median wall time of ``repeat`` calls of ``func()``, and its last result."""
    timings, result = [], None
    for _run in range(repeat):
        start = time.perf_counter()
        result = func()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), result
