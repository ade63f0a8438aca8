// Chooses the Platform behind the controller by name (`--platform`). Each kind is loaded on demand, so
// the controller carries only the platform code it runs; a new platform adds one entry here.
import type { Platform } from '../platform/platform.js';
import type { ControllerConfig } from './config.js';

export type PlatformFactory = (config: ControllerConfig) => Promise<Platform>;

const factories = new Map<string, PlatformFactory>([
  [
    'memory',
    async (config) => {
      if (config.memoryState === undefined) {
        const { MemoryPlatform } = await import('../platform/memory/memory-platform.js');
        return new MemoryPlatform();
      }
      const { FileMemoryPlatform } = await import('../platform/memory/state-file.js');
      return new FileMemoryPlatform(config.memoryState);
    },
  ],
  [
    'local',
    async (config) => {
      const { LocalPlatform } = await import('../platform/local/platform.js');
      return new LocalPlatform(config.stateDir);
    },
  ],
]);

/** Adds or replaces a platform kind (tests, and platforms that live outside this file). */
export function registerPlatform(kind: string, factory: PlatformFactory): void {
  factories.set(kind, factory);
}

export function platformKinds(): string[] {
  return [...factories.keys()];
}

export async function createPlatform(config: ControllerConfig): Promise<Platform> {
  const factory = factories.get(config.platform);
  if (!factory) throw new Error(`--platform: unknown platform "${config.platform}" (known: ${platformKinds().join(', ')})`);
  return factory(config);
}
