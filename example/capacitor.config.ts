import type { CapacitorConfig } from '@capacitor/cli';
// Brings the `plugins.Liveship` typing (PluginsConfig augmentation) into this file.
import type {} from '@liveship/capacitor';

// Keys: paste the `publicKeys` and `bundleKeys` from the liveship.config.json that
// `npx liveship keygen --out keys` wrote (the private signing key stays in CI).
const config: CapacitorConfig = {
  appId: 'com.example.liveship',
  appName: 'Liveship example',
  webDir: 'www',
  plugins: {
    Liveship: {
      updateUrl: 'https://updates.example.com/liveship-example/',
      defaultChannel: 'production',
      autoUpdate: true,
      appReadyTimeout: 10000,
      applyMode: 'nextLaunch',
      periodCheckDelay: 3600,
      publicKeys: [
        {
          keyId: 'REPLACE-with-keyId-from-liveship.config.json',
          publicKey: 'REPLACE-with-publicKey-from-liveship.config.json',
          channels: ['*'],
        },
      ],
      bundleKeys: [
        {
          keyId: 'REPLACE-with-bundle-keyId',
          key: 'REPLACE-with-bundle-key',
        },
      ],
      backgroundUnmeteredOnly: true,
    },
  },
};

export default config;
