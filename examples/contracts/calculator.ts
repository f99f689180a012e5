/**
 * Contract: Calculator
 * Version: 39c3928c1b02
 * Generated: 2026-11-21T05:39:18.370Z
 *
 * Shared interface between tasks. Change it only through a new contract version.
 */
export interface Calculator {
  add(...args: unknown[]): unknown;
  subtract(...args: unknown[]): unknown;
  multiply(...args: unknown[]): unknown;
  divide(...args: unknown[]): unknown;
}
