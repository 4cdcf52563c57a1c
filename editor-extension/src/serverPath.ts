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

/**
 * The file `command` runs: itself when it names a path, else the first match
 * on `pathVariable`; undefined when there is none (the server is missing).
 */
export function findOnPath(
  command: string,
  pathVariable: string,
  exists: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (command.includes('/') || (platform === 'win32' && command.includes('\\'))) {
    return exists(command) ? command : undefined;
  }
  const separator = platform === 'win32' ? ';' : ':';
  for (const folder of pathVariable.split(separator)) {
    if (folder !== '') {
      const candidate = path.join(folder, command);
      if (exists(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}
