/** @odoo-module **/
/**
 * Twilio's own Device (Twilio Voice JavaScript SDK 2.x, vendored in static/lib/twilio/), loaded
 * only when a user signs in to the softphone. The softphone service speaks to it directly:
 * this adapter only loads the SDK, creates the Device with our options, and asks for the
 * microphone before a call.
 */
import { loadJS } from "@web/core/assets";
import { browser } from "@web/core/browser/browser";

export const TWILIO_SDK_URL = "/builtin_telephony/static/lib/twilio/twilio.min.js";

/**
 * @param {string} token the access token of /telephony/softphone/token
 * @param {Object} options
 * @param {string} [options.closeProtection] the warning shown when leaving the page mid-call
 */
export async function makeTwilioDevice(token, { closeProtection } = {}) {
    await loadJS(TWILIO_SDK_URL);
    const device = new window.Twilio.Device(token, {
        closeProtection: closeProtection || true,
        codecPreferences: ["opus", "pcmu"],
        // Our own timer renews the token too: tokenWillExpire fires once per registration.
        tokenRefreshMs: 30000,
    });
    // Asked before placing or answering a call, so that the softphone can explain the request.
    device.needsMicrophone = async () => {
        const stream = await browser.navigator.mediaDevices.getUserMedia({ audio: true });
        stream.getTracks().forEach((track) => track.stop());
    };
    return device;
}
