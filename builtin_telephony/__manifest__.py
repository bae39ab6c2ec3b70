{
    'name': 'Built-in Telephony',
    'version': '18.0.1.0.0',
    'category': 'Sales/CRM',
    'sequence': 60,
    'summary': "Buy numbers, route incoming calls with call flows, call leads in one click, "
               "prepaid credits — telephony over Twilio, inside Odoo CRM",
    'description': """
Built-in Telephony
==================
A telephony system inside Odoo CRM, over Twilio:

* buy phone numbers (local, mobile, toll-free) and release them;
* telephony users and groups, outgoing caller IDs, a block list;
* call flows for incoming calls (IVR, announcements, transfers to users and groups, queues,
  voicemail), published and versioned;
* a prepaid credit wallet paid through Odoo's payment providers, with auto-recharge;
* every call logged, charged and tied to the CRM.

A built-in ``sandbox`` provider lets you try everything without a Twilio account.
""",
    'author': 'builtin_telephony contributors',
    'website': 'https://github.com/builtin-telephony/builtin_telephony',
    'depends': ['crm', 'mail', 'phone_validation', 'payment'],
    'external_dependencies': {'python': ['twilio', 'phonenumbers']},
    'data': [
        'security/telephony_security.xml',
        'security/ir.model.access.csv',
        'security/telephony_caller_id_security.xml',
        'data/telephony_number_price_data.xml',
        'data/telephony.number.price.csv',
        'data/telephony.rate.csv',
        'data/ir_cron_data.xml',
        'data/telephony_activity_data.xml',
        'views/telephony_number_views.xml',
        'wizard/telephony_number_buy_views.xml',
        'wizard/telephony_credit_buy_views.xml',
        'wizard/telephony_storage_plan_change_views.xml',
        'wizard/telephony_sandbox_call_wizard_views.xml',
        'views/telephony_user_views.xml',
        'views/telephony_group_views.xml',
        'views/telephony_blocked_number_views.xml',
        'views/telephony_caller_id_views.xml',
        'views/res_users_views.xml',
        'views/telephony_flow_views.xml',
        'wizard/telephony_flow_transfer_views.xml',
        'views/telephony_call_views.xml',
        'data/telephony_voicemail_templates.xml',
        'views/crm_lead_views.xml',
        'views/telephony_wallet_views.xml',
        'views/telephony_rate_views.xml',
        'views/telephony_account_views.xml',
        'views/res_config_settings_views.xml',
        'views/payment_templates.xml',
        'views/telephony_menus.xml',
    ],
    'demo': [
        'demo/telephony_demo.xml',
        'demo/telephony_wallet_demo.xml',
        'demo/telephony_users_demo.xml',
        'demo/telephony_crm_demo.xml',
        'demo/telephony_flow_demo.xml',
    ],
    'assets': {
        'web.assets_backend': [
            'builtin_telephony/static/src/utils/*',
            'builtin_telephony/static/src/components/account_form/*',
            'builtin_telephony/static/src/components/credit_analytics/*',
            'builtin_telephony/static/src/components/credits_field/*',
            'builtin_telephony/static/src/components/phone_field/*',
            'builtin_telephony/static/src/components/phone_number/*',
            'builtin_telephony/static/src/softphone/*',
            'builtin_telephony/static/src/components/call_history/*',
            'builtin_telephony/static/src/components/storage_usage/*',
            'builtin_telephony/static/src/components/audio_field/*',
            'builtin_telephony/static/src/flow_builder/*',
        ],
        'web.assets_unit_tests': [
            'builtin_telephony/static/tests/**/*.test.js',
            'builtin_telephony/static/tests/helpers/**/*',
        ],
        'web.assets_tests': [
            'builtin_telephony/static/tests/tours/**/*',
        ],
    },
    'application': True,
    'uninstall_hook': '_uninstall_hook',
    'installable': True,
    'license': 'LGPL-3',
}
