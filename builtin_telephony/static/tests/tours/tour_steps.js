/** @odoo-module **/
// Steps the tours share.
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * From the home page to the Built-in Telephony page through the menus, as a user gets there,
 * then to one of its tabs when `tab` (its label) is given.
 */
export function openBuiltinTelephony(tab) {
    const steps = [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Telephony app",
            trigger: ".o_app[data-menu-xmlid='builtin_telephony.menu_telephony_root']",
            run: "click",
        },
        {
            content: "Open Built-in Telephony",
            trigger: ".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']",
            run: "click",
            timeout: 30000, // the app's first load, on a loaded test machine
        },
    ];
    if (tab) {
        steps.push({
            content: `Open the ${tab} tab`,
            trigger: `.o_notebook .nav-link:contains('${tab}')`,
            run: "click",
        });
    }
    return steps;
}
