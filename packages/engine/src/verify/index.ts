export { VERIFY_REPORT_FILE, VERIFY_TAIL_LINES, verifyTask, type VerifyTaskInput } from './verify-task.js';
