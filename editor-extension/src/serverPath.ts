// Where the `neuride` binary is: the `neuride.serverPath` setting, else the
// workspace's own release build, else `neuride` on PATH. Pure apart from the
// injected `exists`, so the choice is unit-tested.

import * as path from 'path';

export function resolveServerPath(
  setting: string | undefined,
  workspaceFolders: string[],
  exists: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): string {
  const binary = platform === 'win32' ? 'neuride.exe' : 'neuride';
  if (setting && setting.trim() !== '') {
    const trimmed = setting.trim();
    // A relative setting is relative to the first workspace folder.
    if (!path.isAbsolute(trimmed) && trimmed.includes('/') && workspaceFolders.length > 0) {
      return path.join(workspaceFolders[0], trimmed);
    }
    return trimmed;
  }
  for (const folder of workspaceFolders) {
    const candidate = path.join(folder, 'target', 'release', binary);
    if (exists(candidate)) {
      return candidate;
    }
  }
  return binary;
}
