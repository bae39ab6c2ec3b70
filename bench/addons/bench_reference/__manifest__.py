{
    'name': 'Benchmark reference route',
    'version': '18.0.1.0.0',
    'summary': "Throw-away module of bench/: the minimal Odoo route the benchmarks compare with.",
    'depends': ['builtin_telephony'],
    'installable': True,
    'license': 'LGPL-3',
}
