"""Spanish and Simplified Chinese: complete, faithful to their source, and loaded by Odoo.

The template (i18n/builtin_telephony.pot) is exported by Odoo from the code (`make i18n`) and must
hold every term of the code; every term of it must be translated in es.po and zh_CN.po, and a
translation must keep the placeholders and the markup of its source, or the message breaks
(KeyError in `%`) or the view loses an element.
"""
import re
from collections import Counter

import polib

from odoo.tests import BaseCase, TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

LANGUAGES = ('es', 'zh_CN')

# %s, %d, %(name)s, %(credits).2f, %%; then {} and {name} of str.format and JS sprintf. No space
# flag: "told at 80% and 100%" in a sentence that is never formatted holds no placeholder.
PLACEHOLDER = re.compile(r'%(?:\([^)]*\))?[#0+-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{[^{}\s]*\}')
TAG = re.compile(r'</?([A-Za-z][\w-]*)')


def _po(name):
    return polib.pofile(file_path(f'builtin_telephony/i18n/{name}'))


def placeholders(text):
    return Counter(PLACEHOLDER.findall(text))


def tags(text):
    return Counter(TAG.findall(text))


class TestTranslationFiles(BaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = _po('builtin_telephony.pot')

    def test_placeholder_pattern(self):
        # The check below is only as good as this pattern.
        self.assertEqual(placeholders('%(credits).2f of %s, %(name)s, {} {count}, 100%%'),
                         Counter(['%(credits).2f', '%s', '%(name)s', '{}', '{count}', '%%']))
        self.assertEqual(placeholders('told at 80% and 100%, once a day'), Counter())
        self.assertNotEqual(placeholders('%(number)s — %(price)s credits/month'),
                            placeholders('%(number)s — %(prix)s crédits/mois'))
        self.assertEqual(tags('<strong>Go</strong> <i class="fa" aria-label="x"/>'),
                         Counter(['strong', 'strong', 'i']))

    def test_template_is_not_empty(self):
        self.assertGreater(len(self.template), 500)
        self.assertIn('Built-in Telephony', {entry.msgid for entry in self.template})

    def test_every_term_translated(self):
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                po = _po(f'{lang}.po')
                self.assertEqual(po.metadata.get('Language'), lang)
                translations = {entry.msgid: entry.msgstr for entry in po if not entry.obsolete}
                missing = [entry.msgid for entry in self.template if not translations.get(entry.msgid)]
                self.assertFalse(missing, f"{lang}.po lacks {len(missing)} translation(s) of the "
                                          f"template (make i18n, then translate): {missing}")

    def test_placeholders_and_markup_kept(self):
        for lang in LANGUAGES:
            po = _po(f'{lang}.po')
            broken = [
                (entry.msgid, entry.msgstr) for entry in po
                if entry.msgstr and (placeholders(entry.msgid) != placeholders(entry.msgstr)
                                     or tags(entry.msgid) != tags(entry.msgstr))
            ]
            with self.subTest(lang=lang):
                self.assertFalse(broken, f"{lang}.po changes placeholders or markup: {broken}")


@tagged('post_install', '-at_install')
class TestTranslationsLoaded(TransactionCase):
    """Odoo reads both files: menus, fields, selections, views, Python and JS messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        module = cls.env['ir.module.module'].search([('name', '=', 'builtin_telephony')])
        for code in ('es_ES', 'zh_CN'):
            cls.env['res.lang']._activate_lang(code)
            module._update_translations(code, overwrite=True)

    def test_menus_and_actions(self):
        menu = self.env.ref('builtin_telephony.menu_telephony_root')
        self.assertEqual(menu.with_context(lang='es_ES').name, 'Telefonía')
        self.assertEqual(menu.with_context(lang='zh_CN').name, '电话')
        flows = self.env.ref('builtin_telephony.telephony_flow_action')
        self.assertEqual(flows.with_context(lang='es_ES').name, 'Flujos de llamadas')
        self.assertEqual(flows.with_context(lang='zh_CN').name, '通话流程')

    def test_fields_and_selections(self):
        for lang, users, groups, free in (
                ('es_ES', 'Usuarios de telefonía', 'Grupos de telefonía', 'Gratis (1.000 minutos)'),
                ('zh_CN', '电话用户', '电话组', '免费（1,000 分钟）')):
            fields = self.env['telephony.account'].with_context(lang=lang).fields_get(
                ['telephony_user_ids', 'telephony_group_ids', 'storage_plan'])
            self.assertEqual(fields['telephony_user_ids']['string'], users)
            self.assertEqual(fields['telephony_group_ids']['string'], groups)
            self.assertIn(('free', free), [tuple(s) for s in fields['storage_plan']['selection']])

    def test_view(self):
        for lang, words in (('es_ES', ['Detalles del plan de telefonía', 'Lista de bloqueo',
                                       'Recargar automáticamente']),
                            ('zh_CN', ['电话计划详情', '黑名单', '自动充值'])):
            arch = self.env['telephony.account'].with_context(lang=lang).get_views(
                [(False, 'form')])['views']['form']['arch']
            for word in words:
                self.assertIn(word, arch)

    def test_python_messages(self):
        flows = self.env['telephony.flow']
        problems = flows.with_context(lang='es_ES').validate_definition('{"start": "x", "states": {}}')
        self.assertIn('El inicio está conectado a "x", que no es un estado de este flujo.', problems)
        problems = flows.with_context(lang='zh_CN').validate_definition('{"start": "x", "states": {}}')
        self.assertIn('开始状态连接到“x”，它不是此流程中的状态。', problems)

    def test_javascript_messages(self):
        for lang, expected in (('es_ES', 'Créditos comprados'), ('zh_CN', '已购买的信用点数')):
            translations, _lang_params = self.env['ir.http'].get_translations_for_webclient(
                ['builtin_telephony'], lang)
            messages = {m['id']: m['string'] for m in translations['builtin_telephony']['messages']}
            self.assertEqual(messages.get('Credits purchased'), expected)


@tagged('post_install', '-at_install')
class TestTemplateUpToDate(TransactionCase):
    """The template holds every term of the code, so that the checks above cover them all."""

    def test_template_has_every_term_of_the_code(self):
        template = {entry.msgid for entry in _po('builtin_telephony.pot')}
        # A file Babel cannot read (an f-string among _()'s arguments) is only logged, and its
        # terms are silently missing from the template and from this comparison alike.
        with self.assertNoLogs('odoo.tools.translate', level='ERROR'):
            reader = TranslationModuleReader(self.env.cr, modules=['builtin_telephony'])
        missing = sorted({source for module, _type, _name, _res_id, source, _value, _comments
                          in reader if module == 'builtin_telephony'} - template)
        self.assertFalse(missing, f"i18n/builtin_telephony.pot lacks {len(missing)} term(s) of the "
                                  f"code: run `make i18n`, then translate them in es.po and "
                                  f"zh_CN.po: {missing}")
