import { WebPlugin } from '@capacitor/core';

import type {
  AppReadyResult,
  AutoUpdateEnabled,
  BuiltinVersion,
  BundleInfo,
  BundleListResult,
  ChannelRes,
  ConsentResult,
  DeleteDataResult,
  CurrentBundleResult,
  DeviceId,
  AppUpdateInfo,
  AppUpdateResult,
  AutoUpdateAvailable,
  DeletePreviewResult,
  ExportDataResult,
  GetAppIdRes,
  GetBundleDownloadSizeResult,
  GetMissingBundleFilesResult,
  ListChannelsResult,
  PreviewListResult,
  PreviewUpdateResult,
  ShakeChannelSelectorEnabled,
  ShakeMenuEnabled,
  GetChannelRes,
  HistoryResult,
  LatestVersion,
  LiveshipNativePlugin,
  PluginVersion,
  TriggerUpdateCheckResult,
  UpdateFailedEvent,
} from './definitions';
import { PLUGIN_VERSION } from './version';

/** The page itself, as a bundle: what a browser serves is never updated by Liveship. */
const PAGE: BundleInfo = {
  id: 'builtin',
  version: 'web',
  downloaded: '',
  checksum: '',
  status: 'success',
  role: 'builtin',
  channel: '',
  sequence: 0,
};

const WHY = 'live updates run in the Android and iOS apps; in a browser the page is served by its web server';

/**
 * The browser implementation. Reads answer truthfully (the page is the built-in bundle, nothing
 * is installed, automatic updates are off); everything that would download, switch or store
 * something rejects with `unimplemented` and says why, so a web build never pretends to update.
 */
export class LiveshipWeb extends WebPlugin implements LiveshipNativePlugin {
  private warned = false;

  async notifyAppReady(): Promise<AppReadyResult> {
    if (!this.warned) {
      this.warned = true;
      console.info(`Liveship: notifyAppReady() has nothing to confirm in a browser (${WHY}).`);
    }
    return { bundle: PAGE };
  }
  async current(): Promise<CurrentBundleResult> {
    return { bundle: PAGE, native: 'web' };
  }
  async list(): Promise<BundleListResult> {
    return { bundles: [] };
  }
  async getNextBundle(): Promise<BundleInfo | null> {
    return null;
  }
  async getFailedUpdate(): Promise<UpdateFailedEvent | null> {
    return null;
  }
  async isAutoUpdateEnabled(): Promise<AutoUpdateEnabled> {
    return { enabled: false };
  }
  async getPluginVersion(): Promise<PluginVersion> {
    return { version: PLUGIN_VERSION };
  }
  async getBuiltinVersion(): Promise<BuiltinVersion> {
    return { version: PAGE.version };
  }
  async getHistory(): Promise<HistoryResult> {
    return { history: [] };
  }
  async exportData(): Promise<ExportDataResult> {
    return { json: JSON.stringify({ platform: 'web', note: `nothing is stored: ${WHY}` }) };
  }
  async reload(): Promise<void> {
    window.location.reload();
  }
  async isAutoUpdateAvailable(): Promise<AutoUpdateAvailable> {
    return { available: false };
  }
  async isShakeMenuEnabled(): Promise<ShakeMenuEnabled> {
    return { enabled: false, gesture: 'shake' };
  }
  async isShakeChannelSelectorEnabled(): Promise<ShakeChannelSelectorEnabled> {
    return { enabled: false };
  }

  async download(): Promise<BundleInfo> {
    throw this.unimplemented(`download: ${WHY}`);
  }
  async next(): Promise<BundleInfo> {
    throw this.unimplemented(`next: ${WHY}`);
  }
  async set(): Promise<void> {
    throw this.unimplemented(`set: ${WHY}`);
  }
  async reset(): Promise<void> {
    throw this.unimplemented(`reset: ${WHY}`);
  }
  async delete(): Promise<void> {
    throw this.unimplemented(`delete: ${WHY}`);
  }
  async getLatest(): Promise<LatestVersion> {
    throw this.unimplemented(`getLatest: ${WHY}`);
  }
  async setChannel(): Promise<ChannelRes> {
    throw this.unimplemented(`setChannel: ${WHY}`);
  }
  async unsetChannel(): Promise<void> {
    throw this.unimplemented(`unsetChannel: ${WHY}`);
  }
  async getChannel(): Promise<GetChannelRes> {
    throw this.unimplemented(`getChannel: ${WHY}`);
  }
  async getDeviceId(): Promise<DeviceId> {
    throw this.unimplemented(`getDeviceId: ${WHY}`);
  }
  async setMultiDelay(): Promise<void> {
    throw this.unimplemented(`setMultiDelay: ${WHY}`);
  }
  async cancelDelay(): Promise<void> {
    throw this.unimplemented(`cancelDelay: ${WHY}`);
  }
  async triggerUpdateCheck(): Promise<TriggerUpdateCheckResult> {
    return { status: 'unavailable', queued: false };
  }
  async deleteData(): Promise<DeleteDataResult> {
    throw this.unimplemented(`deleteData: ${WHY}`);
  }
  async setConsent(): Promise<ConsentResult> {
    throw this.unimplemented(`setConsent: ${WHY}`);
  }
  async getConsent(): Promise<ConsentResult> {
    throw this.unimplemented(`getConsent: ${WHY}`);
  }
  async setUpdateUrl(): Promise<void> {
    throw this.unimplemented(`setUpdateUrl: ${WHY}`);
  }
  async setStatsUrl(): Promise<void> {
    throw this.unimplemented(`setStatsUrl: ${WHY}`);
  }
  async setChannelUrl(): Promise<void> {
    throw this.unimplemented(`setChannelUrl: ${WHY}`);
  }
  async getAppId(): Promise<GetAppIdRes> {
    throw this.unimplemented(`getAppId: ${WHY}`);
  }
  async setAppId(): Promise<void> {
    throw this.unimplemented(`setAppId: ${WHY}`);
  }
  async setCustomId(): Promise<void> {
    throw this.unimplemented(`setCustomId: ${WHY}`);
  }
  async setBundleError(): Promise<BundleInfo> {
    throw this.unimplemented(`setBundleError: ${WHY}`);
  }
  async getMissingBundleFiles(): Promise<GetMissingBundleFilesResult> {
    throw this.unimplemented(`getMissingBundleFiles: ${WHY}`);
  }
  async getBundleDownloadSize(): Promise<GetBundleDownloadSizeResult> {
    throw this.unimplemented(`getBundleDownloadSize: ${WHY}`);
  }
  async listChannels(): Promise<ListChannelsResult> {
    throw this.unimplemented(`listChannels: ${WHY}`);
  }
  async setShakeMenu(): Promise<void> {
    throw this.unimplemented(`setShakeMenu: ${WHY}`);
  }
  async setShakeChannelSelector(): Promise<void> {
    throw this.unimplemented(`setShakeChannelSelector: ${WHY}`);
  }
  async startPreviewSession(): Promise<void> {
    throw this.unimplemented(`startPreviewSession: ${WHY}`);
  }
  async listPreviews(): Promise<PreviewListResult> {
    throw this.unimplemented(`listPreviews: ${WHY}`);
  }
  async setPreview(): Promise<void> {
    throw this.unimplemented(`setPreview: ${WHY}`);
  }
  async resetPreview(): Promise<void> {
    throw this.unimplemented(`resetPreview: ${WHY}`);
  }
  async deletePreview(): Promise<DeletePreviewResult> {
    throw this.unimplemented(`deletePreview: ${WHY}`);
  }
  async checkPreviewUpdate(): Promise<PreviewUpdateResult> {
    throw this.unimplemented(`checkPreviewUpdate: ${WHY}`);
  }
  async updatePreview(): Promise<PreviewUpdateResult> {
    throw this.unimplemented(`updatePreview: ${WHY}`);
  }
  async getAppUpdateInfo(): Promise<AppUpdateInfo> {
    throw this.unimplemented(`getAppUpdateInfo: ${WHY}`);
  }
  async openAppStore(): Promise<void> {
    throw this.unimplemented(`openAppStore: ${WHY}`);
  }
  async performImmediateUpdate(): Promise<AppUpdateResult> {
    throw this.unimplemented(`performImmediateUpdate: ${WHY}`);
  }
  async startFlexibleUpdate(): Promise<AppUpdateResult> {
    throw this.unimplemented(`startFlexibleUpdate: ${WHY}`);
  }
  async completeFlexibleUpdate(): Promise<void> {
    throw this.unimplemented(`completeFlexibleUpdate: ${WHY}`);
  }
}
