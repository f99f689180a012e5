/**
 * Contract: HistoryStore
 * Version: 76fbf67f9c1d
 * Generated: 2026-11-21T05:39:18.903Z
 *
 * Shared interface between tasks. Change it only through a new contract version.
 */
export interface HistoryStore {
  record(...args: unknown[]): unknown;
  list(...args: unknown[]): unknown;
  clear(...args: unknown[]): unknown;
}
