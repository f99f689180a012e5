/**
 * The run's plan, behind one owner: the frozen copy read at start, plus the tasks a review added
 * (`tasks.added`). Everyone reads it through here, so nobody holds a stale copy.
 */
import { remainingPathLengths, type Plan, type Task } from '@orch/core';

export class PlanStore {
  private current: Plan;
  private paths: Map<string, number>;

  constructor(plan: Plan) {
    this.current = plan;
    this.paths = remainingPathLengths(plan);
  }

  get plan(): Plan {
    return this.current;
  }

  /** Each task's longest remaining path (the scheduler's priority). */
  get priorities(): Map<string, number> {
    return this.paths;
  }

  /** Adds tasks (a review's); returns the new plan. */
  add(tasks: readonly Task[]): Plan {
    this.current = { ...this.current, tasks: [...this.current.tasks, ...tasks] };
    this.paths = remainingPathLengths(this.current);
    return this.current;
  }
}
