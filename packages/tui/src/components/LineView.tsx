import { Text } from 'ink';
import type { Line } from '../lines.js';

/** One styled line, cut at the edge of its box instead of wrapping. */
export function LineView({ line }: { line: Line }) {
  return (
    <Text wrap="truncate-end">
      {line.map((s, i) => (
        <Text key={i} color={s.color} bold={s.bold} dimColor={s.dim} inverse={s.inverse}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}
