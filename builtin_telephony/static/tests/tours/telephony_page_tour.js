/** @odoo-module **/
// The Built-in Telephony page as a person uses it (issue 13): a reload or a shared link keeps
// Telephony's menu, a dialog's Save saves, a new telephony user can open the app, a salesperson
// who opens the page by its address is told what it is, the auto-recharge hint, and numbers
// read in international format on every list.
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const openPage = [
    stepUtils.showAppsMenuItem(),
    {
        content: "Open the Telephony app",
        trigger: ".o_app[data-menu-xmlid='builtin_telephony.menu_telephony_root']",
        run: "click",
    },
    {
        content: "Open Built-in Telephony from Telephony's menu",
        trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']",
        run: "click",
    },
    {
        content: "The page is open",
        trigger: ".o_form_view .o_notebook",
    },
];

const pageReadsAsSettings = [
    {
        content: "Telephony's menu is in the navbar",
        trigger: ".o_main_navbar .o_menu_brand:contains('Telephony')",
    },
    {
        trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']",
    },
    {
        content: "The page is named once, as a settings page is",
        trigger: ".o_breadcrumb .active:contains('Built-in Telephony')",
    },
    {
        content: "No '1 / 1' pager, and the (only) company is not repeated",
        trigger: ".o_action:not(:has(.o_pager)):not(:has(.o_form_view .o_field_widget[name=company_id]))",
    },
];

registry.category("web_tour.tours").add("builtin_telephony_page_reload", {
    url: "/odoo",
    steps: () => [
        ...openPage,
        ...pageReadsAsSettings,
        {
            content: "The address is the page's own",
            trigger: "body",
            run() {
                if (!/^\/odoo\/telephony(\/\d+)?$/.test(window.location.pathname)) {
                    throw new Error(`unexpected address ${window.location.pathname}`);
                }
                window.location.reload();
            },
        },
        {
            content: "After the reload, still Telephony's menu and the page",
            trigger: ".o_form_view .o_notebook",
        },
        ...pageReadsAsSettings,
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_shared_link", {
    url: "/odoo/telephony",
    steps: () => [
        {
            content: "A shared link opens the page",
            trigger: ".o_form_view .o_notebook",
        },
        ...pageReadsAsSettings,
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_add_user_dialog", {
    url: "/odoo",
    steps: () => [
        ...openPage,
        {
            content: "Open the Telephony users tab",
            trigger: ".o_notebook .nav-link:contains('Telephony users')",
            run: "click",
        },
        {
            content: "Add a user",
            trigger: ".o_field_widget[name=telephony_user_ids] a:contains('Add user')",
            run: "click",
        },
        {
            content: "The dialog is named in the singular",
            trigger: ".modal .modal-title:contains('Create Telephony user'):not(:contains('users'))",
        },
        {
            content: "The dialog says that the person gets the Telephony / User access right",
            trigger: ".modal .alert:contains('Telephony / User')",
        },
        {
            content: "Pick the Odoo user",
            trigger: ".modal .o_field_widget[name=user_id] input",
            run: "edit Nina",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Nina Newcomer')",
            run: "click",
        },
        {
            content: "Save the user",
            trigger: ".modal .modal-footer button:contains('Save & Close')",
            run: "click",
        },
        {
            content: "The user is listed",
            trigger: ".o_field_widget[name=telephony_user_ids] .o_data_row:contains('Nina Newcomer')",
        },
        {
            content: "Saved with the dialog: the page has nothing left to save",
            trigger: ".o_form_view:not(:has(.o_form_status_indicator_buttons:not(.invisible)))",
        },
        {
            content: "Leave by a link of the menu",
            trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_calls']",
            run: "click",
        },
        {
            content: "No question asked: the calls are shown",
            trigger: ".o_breadcrumb .active:contains('Calls')",
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_new_user_opens_app", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "The new telephony user finds the Telephony app",
            trigger: ".o_app[data-menu-xmlid='builtin_telephony.menu_telephony_root']",
            run: "click",
        },
        {
            content: "and their calls",
            trigger: ".o_breadcrumb .active:contains('Calls')",
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_salesperson_page", {
    url: "/odoo/telephony",
    steps: () => [
        {
            content: "A salesperson who opens the page by its address is told what it is",
            trigger: ".o_form_view .alert:contains('telephony administrators set up telephony')",
        },
        {
            content: "and who may open it, by name",
            trigger: ".o_form_view .alert:contains('Telephony / Administrator'):contains('Tess Admin')",
        },
        {
            content: "Nothing else of the page, and no error about the credit analytics",
            trigger: ".o_form_view:not(:has(.o_notebook)):not(:has(.o_telephony_credit_analytics))",
        },
        {
            trigger: "body:not(:has(.o_error_dialog)):not(:has(.o_notification:contains('credit analytics')))",
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_auto_recharge_hint", {
    url: "/odoo",
    steps: () => [
        ...openPage,
        {
            content: "Next to auto-recharge: how to save a payment method",
            trigger: ".o_telephony_no_payment_method:contains('Save my payment details')",
        },
        {
            content: "Buy credits",
            trigger: "button:contains('Buy credits')",
            run: "click",
        },
        {
            content: "The purchase dialog says it too",
            trigger: ".modal:contains('Save my payment details')",
        },
        {
            content: "Pay on the payment page",
            trigger: ".modal footer button[name=action_pay]",
            run: "click",
        },
        {
            content: "The payment page offers to save the payment details",
            trigger: "input[name=o_payment_radio]",
            run: "click",
        },
        {
            trigger: "input[name=o_payment_tokenize_checkbox]",
            run: "click",
        },
        {
            content: "Pay",
            trigger: "button[name=o_payment_submit_button]:enabled",
            run: "click",
        },
        {
            content: "The confirmation page leads back to Telephony",
            trigger: ".o_telephony_payment_landing a:contains('Back to Built-in Telephony')",
            run: "click",
        },
        {
            content: "Back on the page, the credits are there",
            trigger: ".o_telephony_available_credits .o_field_widget[name=balance]:contains('50.00')",
        },
        {
            content: "and the hint is gone: a payment method is saved",
            trigger: ".o_form_view:not(:has(.o_telephony_no_payment_method:visible))",
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_numbers_formatted", {
    url: "/odoo",
    steps: () => [
        ...openPage,
        {
            content: "Phone numbers tab",
            trigger: ".o_notebook .nav-link:contains('Phone numbers')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=number_ids] .o_data_row:contains('+1 415-555-0142')",
        },
        {
            content: "Telephony groups tab: the block list",
            trigger: ".o_notebook .nav-link:contains('Telephony groups')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=blocked_number_ids] .o_data_row:contains('+1 415-555-0166'):not(:contains('+14155550166'))",
        },
        {
            content: "The Call history tab",
            trigger: ".o_notebook .nav-link:contains('Call history')",
            run: "click",
        },
        {
            trigger: ".o_telephony_history_row:contains('+1 202-555-0143'):contains('+1 415-555-0142'):not(:contains('+12025550143'))",
        },
        {
            content: "The calls list",
            trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_calls']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('+1 202-555-0143'):contains('+1 415-555-0142'):not(:contains('+12025550143'))",
        },
        {
            content: "A call's title",
            trigger: ".o_list_view .o_data_row:contains('+1 202-555-0143') td.o_data_cell",
            run: "click",
        },
        {
            trigger: ".o_form_view .oe_title h1:contains('+1 202-555-0143'):contains('+1 415-555-0142')",
        },
        {
            trigger: ".o_breadcrumb .active:contains('+1 202-555-0143 → +1 415-555-0142')",
        },
    ],
});
