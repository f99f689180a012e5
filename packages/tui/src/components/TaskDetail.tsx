import type { TaskState } from '@orch/core';
import { Box, Text } from 'ink';
import { cleanLine, formatTokens, oneLine } from '../format.js';
import { KEY_HELP } from '../lines.js';
import type { MailboxItem } from '../source.js';
import type { TaskRow } from '../state/selectors.js';

export interface TaskDetailProps {
  task: TaskState;
  row: TaskRow;
  log: string[];
  verification?: string[] | undefined;
  mailbox: MailboxItem[];
  width: number;
  height: number;
}

function Field({ name, value }: { name: string; value: string | undefined }) {
  if (!value) return null;
  return (
    <Text wrap="truncate-end">
      <Text dimColor>{`${name.padEnd(12)}`}</Text>
      {value}
    </Text>
  );
}

function Section({ title, lines, empty }: { title: string; lines: string[]; empty: string }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{title}</Text>
      {lines.length === 0 ? <Text dimColor>{`  ${empty}`}</Text> : null}
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end">{`  ${l}`}</Text>
      ))}
    </Box>
  );
}

/** Everything about one task: its facts, the tail of its log, its verification report and mailbox. */
export function TaskDetail({ task, row, log, verification, mailbox, width, height }: TaskDetailProps) {
  const u = task.usage;
  const verifyLines = (verification ?? []).map(cleanLine).slice(0, 8);
  const mailLines = mailbox.slice(-5).map((m) => `${m.from ? `${oneLine(m.from)}: ` : ''}${oneLine(m.text)}`);
  // What is left of the height after facts (~12 lines), the other sections and the key help.
  const logRoom = Math.max(3, height - 18 - verifyLines.length - mailLines.length);
  const logLines = log.slice(-logRoom).map(cleanLine);
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>{row.id}</Text>
        <Text>{'  '}</Text>
        <Text color={row.color}>{`${row.glyph} ${row.statusText}`}</Text>
        <Text dimColor>{`  ${row.elapsed}`}</Text>
      </Text>
      {task.description ? <Text wrap="truncate-end">{oneLine(task.description)}</Text> : null}
      <Field name="agent" value={row.agent} />
      <Field name="attempt" value={task.attempt > 0 ? String(task.attempt) : undefined} />
      <Field name="depends on" value={task.dependsOn.join(', ')} />
      <Field name="branch" value={task.branch} />
      <Field name="worktree" value={task.worktree} />
      <Field name="context" value={row.context === '-' ? undefined : row.context} />
      <Field
        name="tokens"
        value={
          u.inputTokens + u.outputTokens > 0
            ? `${formatTokens(u.inputTokens)} in / ${formatTokens(u.outputTokens)} out`
            : undefined
        }
      />
      <Field name="cost" value={row.cost === '-' ? undefined : row.cost} />
      <Field name="message" value={row.message} />
      <Field
        name="failure"
        value={task.failure ? `${task.failure.category}: ${oneLine(task.failure.reason)}` : undefined}
      />
      <Field name="needs" value={task.blockedNeeds ? oneLine(task.blockedNeeds) : undefined} />
      <Section title="Log" lines={logLines} empty="(no output yet)" />
      <Section title="Verification" lines={verifyLines} empty="(not verified yet)" />
      <Section title="Mailbox" lines={mailLines} empty="(no messages)" />
      <Box marginTop={1}>
        <Text dimColor>{KEY_HELP.detail}</Text>
      </Box>
    </Box>
  );
}
