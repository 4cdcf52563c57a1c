// The "Models" tree: the workspace's models from `neuride/models`, grouped by
// kind. Refreshes are debounced because one copy can raise many events.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { MODELS, ModelEntry } from './protocol';
import { KindGroup, groupByKind, modelItem } from './registry';

type Node = { group: KindGroup } | { model: ModelEntry };

export class RegistryTree implements vscode.TreeDataProvider<Node> {
  private models: ModelEntry[] = [];
  private error: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  private view: vscode.TreeView<unknown> | undefined;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** The view to tell when the models cannot be listed. */
  setView(view: vscode.TreeView<unknown>): void {
    this.view = view;
  }

  refreshSoon(delayMs = 300): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  async refresh(): Promise<void> {
    const client = this.client();
    if (!client) {
      return;
    }
    try {
      this.models = await client.sendRequest<ModelEntry[]>(MODELS, {});
      this.error = undefined;
    } catch (error) {
      this.error = String(error);
    }
    if (this.view) {
      this.view.message = this.error ? `neuride could not list the models: ${this.error}` : undefined;
    }
    this.changed.fire(undefined);
  }

  entries(): ModelEntry[] {
    return this.models;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('group' in node) {
      const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = new vscode.ThemeIcon(node.group.icon);
      item.contextValue = 'neuride.kind';
      return item;
    }
    // Paths relative to the workspace: the folder in the description tells same-named models apart.
    const data = modelItem({ ...node.model, path: vscode.workspace.asRelativePath(node.model.path) });
    const item = new vscode.TreeItem(data.label, vscode.TreeItemCollapsibleState.None);
    item.description = data.description;
    item.tooltip = data.tooltip;
    item.iconPath = new vscode.ThemeIcon(data.icon);
    item.resourceUri = vscode.Uri.parse(data.uri);
    item.contextValue = 'neuride.model';
    item.command = { command: 'vscode.openWith', title: 'Open model', arguments: [vscode.Uri.parse(data.uri), 'neuride.modelView'] };
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      if (this.error) {
        return [];
      }
      return groupByKind(this.models).map((group) => ({ group }));
    }
    return 'group' in node ? node.group.models.map((model) => ({ model })) : [];
  }
}
