/** This plugin's version; scripts/plugin-test.sh checks it equals package.json's. */
export const PLUGIN_VERSION = '0.1.0';
