"""The language and voice of ``<Say>``: plain Python, no Odoo.

The add-on's own words to callers (apologies, refusals, "goodbye") are said in the language of
the state being played, else in the company's, by a voice that speaks it; an administrator's
text message without a voice gets the same. Twilio's default voice reads English, so Spanish
and Chinese get one of the Amazon Polly voices (standard engine) that Twilio's text-to-speech
documentation lists for them:
https://www.twilio.com/docs/voice/twiml/say/text-speech

Languages are Twilio's ``<Say language>`` codes (``es-MX``, ``cmn-CN``) here, and Odoo's codes
(``es_MX``, ``zh_CN``) for translating.
"""

# <Say language> → (Odoo language of the add-on's translations, Polly voice speaking it).
VOICES = {
    'es-ES': ('es_ES', 'Polly.Lucia'),
    'es-MX': ('es_MX', 'Polly.Mia'),
    'es-US': ('es_US', 'Polly.Lupe'),
    'cmn-CN': ('zh_CN', 'Polly.Zhiyu'),
}
# Codes people write for the same languages (zh-CN is the code of Twilio's older alice voice).
ALIASES = {'es': 'es-ES', 'zh': 'cmn-CN', 'zh-CN': 'cmn-CN', 'cmn': 'cmn-CN'}
ENGLISH = 'en-US'


def say_language(odoo_lang):
    """The ``<Say language>`` of an Odoo language: ``es_ES`` → ``es-ES``, ``zh_CN`` →
    ``cmn-CN``; Spanish of Latin America (``es_AR``, ``es_419``...) → ``es-MX``."""
    if not odoo_lang:
        return ENGLISH
    code = odoo_lang.split('@')[0].replace('_', '-')
    if code in VOICES or code in ALIASES:
        return ALIASES.get(code, code)
    if code.startswith('es-'):
        return 'es-MX'
    return code


def odoo_lang(language, installed):
    """The Odoo language among ``installed`` (codes) to translate into for a ``<Say language>``:
    its own (``es-MX`` → ``es_MX``), else another of the same language (Odoo reads es.po for
    every Spanish); None when none is installed."""
    language = ALIASES.get(language, language) or ENGLISH
    wanted = VOICES[language][0] if language in VOICES else language.replace('-', '_')
    if wanted in installed:
        return wanted
    base = wanted.split('_')[0]
    return next((code for code in installed if code.split('_')[0] == base), None)


def say_attributes(language, voice=None):
    """``language``/``voice`` attributes of ``<Say>`` for a text in ``language``: ``voice`` when
    given, else the Polly voice of the language when it needs one."""
    language = ALIASES.get(language, language)
    voice = voice or VOICES.get(language, (None, None))[1]
    return {name: value for name, value in (('language', language), ('voice', voice)) if value}


def prompt_attributes(language, voice=None):
    """``<Say>`` attributes of the add-on's own words in ``language``: none for English, which
    the account's default voice reads (as set in Twilio's console)."""
    if not language or language.startswith('en'):
        return {}
    return say_attributes(language, voice)
