import { periodPresets } from "@builtin_telephony/utils/periods";

/**
 * The period presets as a select shows them, `[value, label]` (utils/periods.test.js pins the
 * list itself; the widgets' tests check that they show it).
 */
export function presetOptions() {
    return periodPresets().map(([key, label]) => [key, String(label)]);
}
