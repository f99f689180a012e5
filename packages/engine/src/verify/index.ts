export { VERIFY_REPORT_FILE, VERIFY_TAIL_LINES, verifyTask, type VerifyTaskInput } from './verify-task.js';
export { leftoverCommands, stopLeftoverCommands, commandRecordDir, type CommandRecord } from './watchdog.js';
