"""Bring the translations of builtin_telephony in line with its template, as msgmerge would.

Run by `make i18n` after Odoo has exported `i18n/builtin_telephony.pot` from the code: every
`i18n/<lang>.po` gets the template's entries, in its order and with its references, keeping the
translation already made for each term; terms gone from the code are dropped. New terms come out
untranslated, and tests/test_translations.py fails until someone translates them.

    python scripts/i18n_merge.py            # update every existing .po
    python scripts/i18n_merge.py es zh_CN   # the same, creating these languages' files if missing
"""
import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parent.parent / 'builtin_telephony' / 'i18n'
TEMPLATE = I18N / 'builtin_telephony.pot'

# Odoo 18's own files (e.g. addons/sms/i18n/<lang>.po) carry these.
PLURAL_FORMS = {
    'es': 'nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;',
    'zh_CN': 'nplurals=1; plural=0;',
}


def merge(template, po_path):
    lang = po_path.stem
    old = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    translations = {entry.msgid: entry.msgstr for entry in old if entry.msgstr and not entry.obsolete}
    new = polib.POFile(wrapwidth=template.wrapwidth)
    new.header = template.header
    new.metadata = dict(template.metadata)
    new.metadata.update({
        'PO-Revision-Date': old.metadata.get('PO-Revision-Date') or template.metadata['PO-Revision-Date'],
        'Language': lang,
        'Plural-Forms': old.metadata.get('Plural-Forms') or PLURAL_FORMS.get(lang, ''),
    })
    missing = 0
    for entry in template:
        merged = polib.POEntry(msgid=entry.msgid, msgstr=translations.get(entry.msgid, ''),
                               occurrences=entry.occurrences, comment=entry.comment,
                               flags=entry.flags)
        missing += not merged.msgstr
        new.append(merged)
    new.save(str(po_path))
    dropped = len(set(translations) - {entry.msgid for entry in template})
    print(f'{po_path.name}: {len(template)} terms, {missing} untranslated, {dropped} obsolete dropped')
    return missing


def main(langs):
    template = polib.pofile(str(TEMPLATE))
    paths = {path.stem: path for path in I18N.glob('*.po')}
    for lang in langs:
        paths.setdefault(lang, I18N / f'{lang}.po')
    for lang in sorted(paths):
        merge(template, paths[lang])


if __name__ == '__main__':
    main(sys.argv[1:])
