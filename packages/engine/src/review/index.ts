export { reviewRun, reviewEnabled, reviewPrompt, type ReviewOutcome } from './review.js';
export { diagnoseFailure } from './diagnose.js';
export { boundDiff, cumulativeDiff, DEFAULT_DIFF_LIMITS, type BoundedDiff, type DiffLimits } from './diff.js';
export { parseReviewAnswer, ReviewAnswer, type ParsedAnswer } from './verdict.js';
export { validateNewTasks, type NewTasksResult } from './new-tasks.js';
