"""Packaging of the add-on as `odoo-addon-builtin_telephony`, installed as `odoo.addons.builtin_telephony`
(the layout setuptools-odoo produces, without its build-time dependency)."""
import ast
import pathlib

from setuptools import find_namespace_packages, setup

HERE = pathlib.Path(__file__).parent
MANIFEST = ast.literal_eval((HERE / 'builtin_telephony' / '__manifest__.py').read_text())
ODOO_SERIES, ADDON_VERSION = MANIFEST['version'][:4], MANIFEST['version']

setup(
    name='odoo-addon-builtin_telephony',
    version=ADDON_VERSION,
    description=MANIFEST['summary'],
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='LGPL-3',
    url=MANIFEST['website'],
    package_dir={'odoo.addons.builtin_telephony': 'builtin_telephony'},
    packages=['odoo.addons.builtin_telephony.' + package if package else 'odoo.addons.builtin_telephony'
              for package in [''] + find_namespace_packages('builtin_telephony', exclude=['static*', 'i18n*'])],
    package_data={'odoo.addons.builtin_telephony': ['*.csv', '**/*.csv', '**/*.xml', '**/*.po', '**/*.pot',
                                                     'static/**/*']},
    python_requires='>=3.10',
    install_requires=[f'odoo>={ODOO_SERIES},<{float(ODOO_SERIES) + 1:.1f}', 'twilio>=9', 'phonenumbers'],
    classifiers=['Framework :: Odoo', f'Framework :: Odoo :: {ODOO_SERIES}',
                 'License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)'],
)
