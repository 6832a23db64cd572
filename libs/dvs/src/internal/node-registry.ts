import { DvsError } from './errors.js';
import type { Backend } from './types.js';

/** Health of a node as the registry sees it. */
export type NodeHealth = 'healthy' | 'lost';

/** Called synchronously on every change of a node's health (and when a node is added). */
export type NodeHealthListener = (nodeId: string, health: NodeHealth) => void;

/**
 * The nodes regions place slabs on, with their health. A failure detector (or a test) calls
 * `markLost` / `markHealthy`; regions also call `markLost` when an operation completes with
 * 'peer-lost'. Regions subscribe to react (drop replicas, repair, refill).
 */
export class NodeRegistry {
  private readonly nodes: Backend[] = [];
  private readonly healthy: boolean[] = [];
  private readonly epochs: number[] = [];
  private readonly index = new Map<string, number>();
  private listeners: NodeHealthListener[] = [];

  constructor(backends: readonly Backend[] = []) {
    for (const backend of backends) this.addNode(backend);
  }

  /** Backends in registration order (the order round-robin placement rotates over). */
  get backends(): readonly Backend[] {
    return this.nodes;
  }

  /** Add a node (healthy). Nodes that join later are used by every region. */
  addNode(backend: Backend): void {
    if (this.index.has(backend.nodeId)) {
      throw new DvsError('duplicate-node', `node '${backend.nodeId}' is already registered; node ids must be unique`);
    }
    this.index.set(backend.nodeId, this.nodes.length);
    this.nodes.push(backend);
    this.healthy.push(true);
    this.epochs.push(0);
    this.emit(backend.nodeId, 'healthy');
  }

  /** The backend of a node, if registered. */
  backend(nodeId: string): Backend | undefined {
    const i = this.index.get(nodeId);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Registration index of a node, or -1. */
  indexOf(nodeId: string): number {
    return this.index.get(nodeId) ?? -1;
  }

  /** Whether the node is registered and healthy. */
  isHealthy(nodeId: string): boolean {
    const i = this.index.get(nodeId);
    return i !== undefined && this.healthy[i];
  }

  /** Whether the node at a registration index is healthy. */
  isHealthyAt(index: number): boolean {
    return this.healthy[index] === true;
  }

  /**
   * Health epoch of a node: bumped on every change. An operation issued in an older epoch
   * says nothing about the node now (e.g. a 'peer-lost' from before a restart).
   */
  epoch(nodeId: string): number {
    const i = this.index.get(nodeId);
    return i === undefined ? -1 : this.epochs[i];
  }

  /** Number of healthy nodes. */
  healthyCount(): number {
    let n = 0;
    for (const h of this.healthy) if (h) n++;
    return n;
  }

  /**
   * Mark a node lost (its slabs are gone). No-op when already lost, or when `ifEpoch` is given
   * and the node's epoch has moved on since (the evidence is stale).
   */
  markLost(nodeId: string, ifEpoch?: number): void {
    if (ifEpoch !== undefined && this.epoch(nodeId) !== ifEpoch) return;
    this.set(nodeId, false);
  }

  /** Mark a node healthy again (it came back empty). No-op when already healthy. */
  markHealthy(nodeId: string): void {
    this.set(nodeId, true);
  }

  /** Subscribe to health changes; returns the unsubscribe function. */
  subscribe(listener: NodeHealthListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private set(nodeId: string, healthy: boolean): void {
    const i = this.index.get(nodeId);
    if (i === undefined) throw new DvsError('unknown-node', `node '${nodeId}' is not registered; add it with addNode first`);
    if (this.healthy[i] === healthy) return;
    this.healthy[i] = healthy;
    this.epochs[i]++;
    this.emit(nodeId, healthy ? 'healthy' : 'lost');
  }

  private emit(nodeId: string, health: NodeHealth): void {
    for (const listener of this.listeners) listener(nodeId, health);
  }
}
